DROP TABLE IF EXISTS event_tickets;
