-- Runs once, when the compose stack's PostgreSQL volume is new: Rasa's tracker store gets its own
-- database next to the handoff service's (POSTGRES_DB=handoff).
CREATE DATABASE rasa OWNER nordnet;
