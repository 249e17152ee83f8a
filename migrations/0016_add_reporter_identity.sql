-- Complaints the administrator registers (letters, walk-ins, phone calls) and the
-- service standard's requirements: the reporter's NIK (only with a valid structure) and
-- postal address, whether an identity was given (a valid NIK or a file named as KTP),
-- and how many supporting documents came with the complaint; and the priority the
-- Kepala Dinas gave with the disposition (it set deadline_at), and the units a
-- disposition sends a copy to, for information (the lead unit is `division`).
ALTER TABLE complaints ADD COLUMN reporter_nik TEXT;
ALTER TABLE complaints ADD COLUMN reporter_address TEXT;
ALTER TABLE complaints ADD COLUMN identity_provided INTEGER NOT NULL DEFAULT 0
    CHECK (identity_provided IN (0, 1));
ALTER TABLE complaints ADD COLUMN documents INTEGER NOT NULL DEFAULT 0 CHECK (documents >= 0);
ALTER TABLE complaints ADD COLUMN priority TEXT
    CHECK (priority IS NULL OR priority IN ('sangat_segera', 'segera', 'biasa'));
ALTER TABLE dispositions ADD COLUMN copies_json TEXT NOT NULL DEFAULT '[]';
