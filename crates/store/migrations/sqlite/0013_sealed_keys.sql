-- Server-wide keys kept sealed under the master key (docs/adr/0010): today the key that client,
-- token and webhook secrets are hashed with, so that rotating the master key does not change
-- the hashes. `sealed` is the sealer's stored form ('v2:' + master key id + ':' + base64).
create table sealed_key (
    name text primary key,
    sealed text not null,
    created integer not null
);
