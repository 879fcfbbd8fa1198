"""Tenants: several businesses on one deployment (docs/tenants.md).

profile  - a tenant's settings (hours, language, prompt, model, budget…) and the Settings a tenant runs with
routing  - the routing document: channel ids and key hashes → tenant, read without the database
secrets  - each tenant's tokens and keys (Secrets Manager on AWS, the data folder locally)
budget   - the monthly token budget and what happens past it
"""
