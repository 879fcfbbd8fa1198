-- Knowledge base: the business's FAQ entries and documents, cut into chunks that the reply model
-- finds with search_knowledge; suggested FAQ entries from resolved escalations; and which chunks
-- each reply was given (its citations). docs/knowledge.md explains the life of a document.

-- One row per source: an FAQ entry (its text lives here) or an uploaded file (its bytes live in the
-- file store: S3 on AWS, the data folder locally). `sha256` is the content last submitted; the
-- chunks were built from `ready_sha256` (null: none yet). While a changed file is being processed
-- the previous version's chunks keep serving, and the worker swaps them in one transaction.
CREATE TABLE knowledge_documents (
    id               bigserial   PRIMARY KEY,
    tenant_id        text        NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('faq', 'file')),
    -- A file's name: uploading the same name again replaces the document. FAQ entries: null.
    name             text,
    title            text        NOT NULL,
    -- faq, pdf, html, markdown, text, docx
    format           text        NOT NULL,
    size_bytes       bigint      NOT NULL DEFAULT 0,
    sha256           text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    error            text,
    question         text,
    answer           text,
    tags             text[]      NOT NULL DEFAULT '{}',
    ready_sha256     text,
    chunk_count      integer     NOT NULL DEFAULT 0,
    embedding_model  text,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    CHECK (kind = 'file' OR (question IS NOT NULL AND answer IS NOT NULL))
);

CREATE UNIQUE INDEX knowledge_documents_file_name ON knowledge_documents (tenant_id, name) WHERE kind = 'file';
CREATE INDEX knowledge_documents_tenant_sha ON knowledge_documents (tenant_id, sha256);
CREATE INDEX knowledge_documents_tenant_id ON knowledge_documents (tenant_id, id);

-- A document's searchable pieces. Only the version in service has chunks (a replacement deletes and
-- inserts in one transaction), so readers never see two versions or none.
CREATE TABLE knowledge_chunks (
    id               bigserial   PRIMARY KEY,
    tenant_id        text        NOT NULL,
    document_id      bigint      NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    chunk_index      integer     NOT NULL,
    -- The headings above the chunk ("Envíos > Plazos"), and the PDF page it starts on.
    section          text,
    page             integer,
    content          text        NOT NULL,
    -- Hash of the embedded text: an unchanged chunk of a changed document keeps its vector.
    content_sha      text        NOT NULL,
    search_vector    tsvector    NOT NULL,
    embedding        vector(1536),
    embedding_model  text,
    UNIQUE (document_id, chunk_index)
);

CREATE INDEX knowledge_chunks_embedding_hnsw ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX knowledge_chunks_search_vector ON knowledge_chunks USING gin (search_vector);
CREATE INDEX knowledge_chunks_tenant ON knowledge_chunks (tenant_id);

-- A resolved escalation's note offered as an FAQ entry; a person approves (it becomes an FAQ entry)
-- or discards it. Never published by itself.
CREATE TABLE knowledge_suggestions (
    id                bigserial   PRIMARY KEY,
    tenant_id         text        NOT NULL,
    escalation_id     bigint      UNIQUE REFERENCES escalations (id) ON DELETE SET NULL,
    conversation_id   text,
    question          text        NOT NULL,
    answer            text        NOT NULL,
    status            text        NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'approved', 'discarded')),
    faq_document_id   bigint      REFERENCES knowledge_documents (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        text
);

CREATE INDEX knowledge_suggestions_tenant_status ON knowledge_suggestions (tenant_id, status, id);

-- The knowledge chunks a search_knowledge call returned to the model: [{documentId, document,
-- chunk, section, score}]. Kept with the call, so a retried reply forgets them with its calls.
ALTER TABLE tool_calls ADD COLUMN knowledge_chunks jsonb NOT NULL DEFAULT '[]';
