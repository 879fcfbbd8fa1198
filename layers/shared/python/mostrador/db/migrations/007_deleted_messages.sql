-- A message its sender took back (an Instagram unsend). Its text is removed for good and the row is
-- left out of the model's history, exports and transcripts. When the unsend arrives before the
-- message, the row is a tombstone under the message's id: the late original is then a known id,
-- never answered and never stored.
ALTER TABLE messages ADD COLUMN deleted_at timestamptz;
