"""Helpers shared by tests: real servers and real repositories, no mocks."""
