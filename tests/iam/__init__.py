"""Tests of the iam service and of API-key authentication and authorization."""
