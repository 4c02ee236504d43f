"""Reading blob bytes through the artifact versions that list them (ReadBlob, BatchReadBlobs)."""
