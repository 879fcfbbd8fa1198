"""Operations: what the business's staff do through the admin API (see docs/admin.md).

auth (who is calling and what they may do), conversations (lists, views, takeover, resume, reset,
customer status), escalations, analytics, export, pricing (LLM cost estimates), paging (cursors).
"""
