DROP TABLE IF EXISTS reminder_deliveries;
--bun:split
DROP TABLE IF EXISTS push_subscriptions;
--bun:split
DROP TABLE IF EXISTS webhooks;
