"""The knowledge base: the business's FAQ entries and documents, cut into chunks the reply model
searches with search_knowledge (docs/knowledge.md).

formats     what an upload is (by name and first bytes) and the checks that answer a clear 4xx
extract     document bytes -> structural blocks (headings, paragraphs) per format
chunking    blocks -> chunks by structure, with overlap where a long section is split
processing  the queue worker's use case: extract, chunk, embed once, swap chunks atomically
search      hybrid search over the chunks with a relevance floor (relevance.py)
library     the admin use cases: documents, FAQ entries, suggestions from resolved escalations
files       where raw files live: S3 on AWS, the data folder locally
"""
