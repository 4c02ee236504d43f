-- Proof of possession no longer grants anything (a proof sampled windows, so knowing part of a file
-- could pass it): ProveBlobPossession rejects every proof and no challenge is issued or stored.
DROP TABLE IF EXISTS blob_challenges;
