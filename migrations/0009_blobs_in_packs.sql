-- A blob's bytes are a range of an append-only pack file in the archive beside the
-- database (`<database>.archive/<pack>.pack`). Blobs written by earlier versions have no
-- pack and keep their bytes in `blob_chunks`.
ALTER TABLE blobs ADD COLUMN pack INTEGER;
ALTER TABLE blobs ADD COLUMN pack_offset INTEGER;
