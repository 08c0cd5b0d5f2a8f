-- sbatch's --open-mode, --signal and the #SBATCH directives a /v1 submit applied (issue 14).
-- Rows stored before keep how they ran until now: output files opened for appending, no warning signal, no
-- directives. Every insert since names its open mode.
ALTER TABLE jobs ADD COLUMN open_mode text NOT NULL DEFAULT 'append';
ALTER TABLE jobs ADD COLUMN warn_signal jsonb;
ALTER TABLE jobs ADD COLUMN directives jsonb NOT NULL DEFAULT '[]';
