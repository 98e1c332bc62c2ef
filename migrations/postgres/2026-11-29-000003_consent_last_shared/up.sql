-- When the department last received the citizen's data under this consent (a code issued
-- after it): the "last shared" of the citizen's data-sharing page. Written at most once a minute.
ALTER TABLE consents ADD COLUMN last_shared_at BIGINT;
