-- Issue 13: voice notes and photos understood, choices offered as interactive messages, product
-- photos, and one reply per burst of customer messages.

-- What the models made of a customer's media: the voice note's words, the photo's product.
ALTER TABLE messages ADD COLUMN transcript text;
ALTER TABLE messages ADD COLUMN media_description text;
-- On a bot reply: the products offered as buttons / list rows / quick replies / numbered lines
-- ([{"id": "product:<itemCode>", "title": ..., "description": ...}]), so a tap or a typed number
-- maps back to a product; and the product photo sent with it.
ALTER TABLE messages ADD COLUMN choices jsonb;
ALTER TABLE messages ADD COLUMN image_url text;
ALTER TABLE messages ADD COLUMN image_caption text;
-- On a customer message waiting for a burst's reply: the channel details the reply needs (business
-- number, Page id, Support Board ids, a tapped choice's id), as the webhook normalized them.
ALTER TABLE messages ADD COLUMN metadata jsonb;
-- A reply generated for a burst that a newer customer message made stale is kept for the record,
-- never sent: status 'superseded' (its in_reply_to is cleared so the newer reply can take its place).
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed', 'superseded'));
-- Customer messages waiting for the burst's one reply.
CREATE INDEX messages_awaiting_reply ON messages (tenant_id, conversation_id, id)
    WHERE direction = 'inbound' AND state = 'received' AND state_reason = 'awaiting_reply';

-- The open burst of a conversation: the first message of it and when its one reply is due. NULL when
-- no reply is pending; the next customer message opens a new one.
ALTER TABLE conversations ADD COLUMN burst_anchor_id bigint;
ALTER TABLE conversations ADD COLUMN burst_due_at timestamptz;
-- When the "I can read text, voice notes and photos" notice went out (once per conversation).
ALTER TABLE conversations ADD COLUMN unsupported_notice_at timestamptz;

-- Product photos as the fetcher sent them (imageUrl first, then images), never downloaded here.
ALTER TABLE products ADD COLUMN image_urls text[] NOT NULL DEFAULT '{}';
