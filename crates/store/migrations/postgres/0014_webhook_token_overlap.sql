-- A rotated webhook token may stay valid for an overlap window, so the desk can be given the new
-- token without a gap: the SHA-256 of the previous token and the end of its window (epoch ms).
-- Cleared whenever the inbound credential changes otherwise.
alter table service_desk_integration add column inbound_previous_token_hash text;
alter table service_desk_integration add column inbound_previous_token_until bigint;
