-- One name for a person of the business writing to a customer: `agent`, whether they typed in the
-- console (outbound) or in a platform's own inbox or the WhatsApp Business app (inbound, recorded
-- from the echo or relay). Earlier versions named the inbound kind `human_agent`.
UPDATE messages SET actor = 'agent' WHERE actor = 'human_agent';
