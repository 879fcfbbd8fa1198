-- The admin console's inbox search (docs/console.md): the words of every message, accents and case
-- folded like the catalog's, so "nevera" finds a conversation through this index instead of reading
-- every message on each refresh. Anything but letters and digits separates words (the text parser alone
-- would read "pedido-7731" as the word "pedido" and the number "-7731"). pg_trgm (substring search) is
-- not available everywhere this runs.
CREATE INDEX messages_words ON messages
    USING gin (to_tsvector('simple', regexp_replace(mostrador_fold(text), '[^[:alnum:]]+', ' ', 'g')));
