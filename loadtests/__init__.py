"""Locust scenarios for every transport, and the sweep that runs them (`chatlab bench`)."""
