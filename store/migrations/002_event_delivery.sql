-- Redelivery: the retry window of an event restarts when it is redelivered
-- (window_start), and the API counts redeliveries.
ALTER TABLE events ADD COLUMN window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN redeliveries INTEGER NOT NULL DEFAULT 0;
UPDATE events SET window_start = created_at;
-- Listing a request's events in creation order.
CREATE INDEX events_dest_id ON events (dest_pk, id);
-- Finding due heads in due order without scanning events that wait.
CREATE INDEX events_due ON events (next_try_at, id) WHERE state = 'pending';
