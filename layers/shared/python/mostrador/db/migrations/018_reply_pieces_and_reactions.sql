-- Issue 13 gaps: which piece of a reply is its product photo, and which message a reaction refers to.

-- On a bot reply: the platform id of the product photo sent before its text (one of
-- platform_message_ids). WhatsApp fetches a photo sent by link after accepting it and reports a dead
-- link later, as a `failed` status naming this id: that failure is the photo's, not the text's.
ALTER TABLE messages ADD COLUMN image_message_id text;

-- On a customer's reaction (and its removal): the platform id of the message reacted to (WhatsApp
-- `reaction.message_id`, Messenger/Instagram `reaction.mid`), ours or the customer's own. Resolved
-- to the message through platform_message_ids (GIN index messages_piece_ids) when shown.
ALTER TABLE messages ADD COLUMN reacted_message_id text;
