-- The tool calls behind one reply, found by the message it answered: the conversation export joins them per
-- bot reply (its knowledge citations, docs/admin.md "Export"), the admin views read them by message id, and
-- deleting a message cascades to them. Without this index each of those reads every tool call of the tenant.
CREATE INDEX tool_calls_message ON tool_calls (message_id);
