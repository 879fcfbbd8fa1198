-- When an operator last resumed the bot in a conversation. The implicit takeover (an agent's
-- message in the Support Board history) only counts when it is newer than this and than the pause
-- length, so resuming the bot, or the pause running out, really brings it back.
ALTER TABLE conversations ADD COLUMN bot_resumed_at timestamptz;

-- How many pieces of a long bot reply have gone out. Pieces are sent one by one; a retry after a
-- transient failure on piece k resumes at k instead of sending the first pieces again.
ALTER TABLE messages ADD COLUMN pieces_sent integer NOT NULL DEFAULT 0;
