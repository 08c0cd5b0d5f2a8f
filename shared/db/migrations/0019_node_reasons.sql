-- Why a node is drained, as Slurm keeps it (scontrol update NodeName=X State=DRAIN Reason="..."; sinfo -R shows
-- REASON, USER and TIMESTAMP): set by a drain, with who drained it and when; cleared by a resume.
ALTER TABLE nodes ADD COLUMN reason text;
ALTER TABLE nodes ADD COLUMN reason_user text;
ALTER TABLE nodes ADD COLUMN reason_at timestamptz;
