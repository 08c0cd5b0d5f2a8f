-- What each node's daemon is, as its heartbeat says: its software version and the protocol it speaks
-- (shared/protocol/protocol-version.ts). NULL until a daemon of protocol 2 or later has said.
ALTER TABLE nodes ADD COLUMN daemon_version text;
ALTER TABLE nodes ADD COLUMN protocol integer;
