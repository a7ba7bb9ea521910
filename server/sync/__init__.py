"""The server side of sync: the SQL store, pull buckets, blobs, devices, assignments."""
