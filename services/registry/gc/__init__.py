"""TTL expiry, draft expiry, garbage collection of unreferenced blobs, and storage usage."""
