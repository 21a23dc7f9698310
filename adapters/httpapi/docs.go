package httpapi

import (
	"fmt"
	"net/http"

	"github.com/todo-backend/todo/domain/task"
)

// The API's prose, in one place: what the OpenAPI document says of each
// operation (opDocs, keyed by operation id, which routes name), and the
// paragraphs and response descriptions several operations share. The
// schemas' own words stay with their fields (doc tags), and the list
// parameters' with their table (listParams).

// apiDescription introduces the whole API.
const apiDescription = "Multi-user todo API. Every /api route needs `Authorization: Bearer <JWT>` " +
	"issued by Better Auth; a user reaches only their own tasks."

// bearerDescription describes the security scheme.
const bearerDescription = "A JWT from Better Auth (`authClient.token()` or the `set-auth-jwt` header)."

// opDoc is what the document says of one operation.
type opDoc struct {
	summary, description string
}

var opDocs = map[string]opDoc{
	"stream-events": {"Stream live events", "Server-Sent Events, one per change of the caller's tasks and lists, in the " +
		"order of the change feed (GET /changes): `id: <seq>` and `data: {\"seq\", \"entity\", \"op\", \"id\"}`; " +
		"the client fetches GET /changes for the data. The headers come at once. With Last-Event-ID (or " +
		"`last_event_id`) the stream first replays the changes after it, then goes live; without, it starts " +
		"with the next change. Writes on any instance reach streams on every instance. Authentication: the " +
		"Authorization header, or `?ticket=` from POST .../events/ticket (an EventSource cannot send headers). " +
		"The stream ends cleanly when the token (or the ticket's token) expires, when the server shuts down, " +
		"or when the client reads too slowly; reconnect with Last-Event-ID. At most EVENTS_MAX_PER_USER " +
		"streams per user and instance (8 by default): past it 429 with Retry-After. A Last-Event-ID older " +
		"than the retained history is 410: take a snapshot."},
	"create-event-ticket": {"Get a ticket for the event stream", "A single-use ticket for GET /api/{user_id}/events?ticket=..., " +
		"good for one connection on any instance within 60 s (never after the token's own expiry), so that " +
		"a browser's EventSource, which cannot send an Authorization header, never carries a JWT in its URL. " +
		"The stream it opens ends when the token it was issued for expires."},
	"export-tasks": {"Export tasks", "The caller's lists and tasks as a file to download (Content-Disposition: attachment), " +
		"streamed as the stores are read, so that any number of tasks costs the memory of a page. `json` is lossless and is what " +
		"an import reads back: lists, subtasks (parent_ref), the order (position), tags, due_date with due_tz and due_floating, " +
		"recurrence, reminders, completion, and with `trash=true` the trash. `csv` is one row per task for spreadsheets; a cell " +
		"starting with = + - @ gets a leading ' so that no spreadsheet runs it as a formula (an import takes it off again). " +
		"`ics` is RFC 5545: a VTODO per live task (SUMMARY, DESCRIPTION, STATUS, COMPLETED, PRIORITY, DUE with TZID and a " +
		"VTIMEZONE, or VALUE=DATE, RRULE, RELATED-TO;RELTYPE=PARENT, CATEGORIES, a VALARM per reminder). A failure once the " +
		"file has started cuts the connection, so that a broken file never looks whole."},
	"import-tasks": {"Import tasks", "Creates lists and tasks from a file, sent as the request body or as the `file` part of a " +
		"multipart/form-data form, read as a stream. Formats: `json` (our export), `todoist-csv` (Todoist's CSV export: " +
		"@labels in CONTENT become tags, PRIORITY 1 is the highest, INDENT makes subtasks, sections become lists), `ics` " +
		"(VTODOs) and `csv` with a column mapping (`mapping`, or guessed from the header). Items in the file's trash are " +
		"left out. Subtasks keep their parent and each level its order; a list whose name the caller has already takes " +
		"the tasks. With `dry_run=true` nothing is created: 200 with what would be, and each problem with its 1-based " +
		"line (the header is line 1). Otherwise the import is one transaction: 201 with what was created and the " +
		"warnings, or 422 naming each line that cannot be read and nothing created. A file over IMPORT_MAX_BYTES " +
		"(default 10 MiB) or with more lists and tasks than IMPORT_MAX_ROWS (default 10,000) is 413; one that is not " +
		"of its format (invalid UTF-8, nesting, a line over 64 KiB) is 422." + idempotencyDoc},
	"list-tasks": {"List tasks", listDescription},
	"task-stats": {"Count tasks", "The counts a sidebar shows, in one call: all tasks (with those of the lists shared with the caller), completed, pending; of the " +
		"pending ones, how many are overdue, due today and of each priority. `tz` (an IANA name such as " +
		"Europe/Paris, default UTC) says where the user's today is: an all-day task is due today on that " +
		"date and overdue once it is over; a timed task is due today when it falls in that day (one already " +
		"past counts as overdue too). `list_id` counts the tasks of one list, or of the inbox (`inbox`); a list " +
		"that is not the caller's counts as empty."},
	"list-tags": {"List tags", "The caller's tags, each with how many tasks carry it, ordered by the tag lower-cased. " +
		"Tags equal but for case are one tag, shown in one of its spellings. `[]` when there are none."},
	"create-task": {"Create a task", "Creates a task for the caller. " + titleDoc + " Description: " + descriptionDoc +
		" Optional: priority (default medium), due_date, tags; list_id and parent_id (where it goes: the inbox at the top " +
		"level when absent; a subtask goes to its parent's list). A new task goes to the bottom of its list (or of its " +
		"parent's subtasks)." + idempotencyDoc},
	"get-task": {"Get a task", "One of the caller's tasks, or a task of a list shared with them (any role reads). Another user's task is 404, as if it did not exist; so is a task " +
		"in the trash. On a shared list, completer completes and reopens tasks, editor and admin change, move and trash them; " +
		"a request the caller's role does not allow is the same 404. With If-None-Match naming the current ETag: 304 and no body."},
	"replace-task": {"Replace a task", "Sets title and description (absent description clears it); completed changes only when given. " +
		"priority, due_date and tags change only when given, so that a frontend that does not know them " +
		"keeps them: due_date null clears it, tags [] removes them (null priority or tags is as if absent). completed_at is set by the server when " +
		"the task becomes completed and cleared when it is reopened. list_id, parent_id and position are ignored, as every " +
		"member PUT does not know: a frontend may send back a whole task, and where a task is changes by a move " +
		"(POST .../move, or list_id in PATCH)." + ifMatchDoc},
	"patch-task": {"Change part of a task", "Changes only what the body names: a JSON Merge Patch (RFC 7396), sent as " +
		"`application/merge-patch+json` or `application/json`. A member that is absent stays as it is; null " +
		"removes a value (description and due_date become null, tags [], priority back to medium); title and " +
		"completed cannot be null. The same rules as PUT apply, and the task is checked as a whole: a broken rule " +
		"is 422 and nothing changes. An empty patch `{}` changes nothing (not even updated_at or the version)." + ifMatchDoc},
	"delete-task": {"Delete a task", "Moves one of the caller's tasks to the trash: from then on it is 404 and left out of lists, counts and " +
		"tags, until it is restored (POST .../restore) or deleted for good (`permanent=true`, DELETE .../trash, " +
		"or the purge after the retention period, 30 days by default). `permanent=true` deletes for good, " +
		"from the list or the trash." + ifMatchDoc},
	"complete-task": {"Toggle or set completion", "Without a body, toggles `completed`. With `{\"completed\": bool}`, sets it. " +
		"An open repeating task is not completed: its current occurrence (or the one `occurrence` names) is recorded as completed and the task moves on " +
		"to its next occurrence, open again, same id, version one up, its completed subtasks reopened; naming an occurrence already passed changes nothing. " +
		"Completing the last occurrence (COUNT or UNTIL) completes the task for good." + ifMatchDoc},
	"skip-occurrence": {"Skip an occurrence", "Moves an open repeating task on to its next occurrence without completing the current one " +
		"(or the one `occurrence` names; one already passed changes nothing), and records it as skipped. A task that does not repeat is a 422." + ifMatchDoc},
	"occurrence-history": {"A repeating task's history", "The occurrences the task passed, completed or skipped, the latest first, as a JSON array; [] for a task that never repeated."},
	"task-history": {"A task's history", "What each write changed of the task's content, newest first, as a JSON array: the version it made, " +
		"when, and per field its value before and after (`changed`). The task keeps the revisions of its last 50 versions, in the trash too; " +
		"a new task has none. version and updated_at are not content; title, description, completed, priority, tags, list_id and parent_id " +
		"show their API values, due, recurrence, reminders and position their stored form."},
	"revert-revision": {"Undo a revision", "Puts back the values the revision of that version changed (title, description, completed, priority, tags, list_id; " +
		"a revision of other fields is a 422), if nobody changed those fields since: else 409 naming them, and nothing changes. The revert is a write of its own, " +
		"one version up, in the history too. 404 for a version the task does not keep."},
	"list-occurrences": {"List occurrences", "The occurrences of the task from its current due onward that fall in [from, to), in order, " +
		"as a JSON array (at most 1000: a window holding more is a 422). A task that does not repeat has its due as its only occurrence; one completed for good has none."},
	"list-trash": {"List the trash", "The caller's deleted tasks, the most recently deleted first, each with `deleted_at`. They stay until " +
		"restored, deleted for good, or purged after the retention period (30 days by default). " +
		"`X-Total-Count` counts them all."},
	"empty-trash": {"Empty the trash", "Deletes every task in the caller's trash for good and says how many; the lists in the trash go too."},
	"restore-task": {"Restore a task", "Brings a task back from the trash exactly as it was deleted: same fields, same `updated_at`, same " +
		"version and ETag (nothing about the task changed, so an ETag held from before still matches). " +
		"Restoring a task that is not in the trash returns it as it is." + idempotencyDoc},
	"create-tasks": {"Create tasks", "Creates " + bulkLimit + " tasks, each as POST /tasks would, all or none: when any breaks a rule the answer " +
		"is 422 naming each bad item by its index (`[\"body\", 2, \"title\"]`) and nothing is created. " +
		"The tasks come back in the order given." + idempotencyDoc},
	"update-tasks": {"Change tasks", "Sets the same values on " + bulkLimit + " of the caller's tasks, all or none: an id that is not the caller's " +
		"(or is in the trash) makes the whole call 404, and nothing changes. Returns the tasks in the order " +
		"of `ids`, each one version up."},
	"delete-tasks": {"Delete tasks", "Moves " + bulkLimit + " of the caller's tasks to the trash, all or none: an id that is not the caller's (or " +
		"is in the trash already) makes the whole call 404, and nothing changes." + idempotencyDoc},
	"clear-completed": {"Delete completed tasks", "Moves every completed task of the caller to the trash and says how many." + idempotencyDoc},
	"move-task": {"Move a task", "Places one of the caller's tasks: in a list (`list_id`, null for the inbox), under a parent " +
		"(`parent_id`, null for the top level), and among its new siblings right after `after_id` or right before " +
		"`before_id` (neither: at the top). An absent `list_id` or `parent_id` keeps the task's own. The server makes " +
		"the task's new `position` between its new neighbours': nothing else is renumbered, and a second client moving " +
		"at the same time never undoes this move. A task moved to another list takes its subtasks along. A move that " +
		"would make a cycle or a tree deeper than 4 levels, an anchor that is not a sibling where the task goes, or a " +
		"subtask sent to another list without a parent there is a 422 saying why; a list, parent or anchor that is not " +
		"the caller's is a 404. Returns the task, one version up." + ifMatchDoc + idempotencyDoc},
	"move-tasks": {"Move tasks", "Moves " + bulkLimit + " of the caller's tasks together, as POST .../tasks/{id}/move moves one, all or none: " +
		"they end side by side at the place named, in the order of `ids` (a multi-select drag). The tasks must share " +
		"a list and a parent unless `parent_id` (and `list_id`) say where they all go. Returns them in the order of " +
		"`ids`, each one version up." + idempotencyDoc},
	"list-lists": {"List lists", "The caller's lists in their order (by `position`), each with how many of its tasks are open and completed: " +
		"the sidebar. The lists shared with the caller are in it too, each with the caller's `role` and its `owner`, ordered together " +
		"with the caller's own by the caller's keys (`position` is the caller's own place for the list: each member has theirs). Tasks in no list are in the inbox: `GET .../tasks?list_id=inbox` lists them and " +
		"`GET .../tasks/stats?list_id=inbox` counts them. `[]` when there are none."},
	"create-webhook": {"Register a webhook", "Registers a URL to which the caller's reminders are posted as they fall due, signed as " +
		"Standard Webhooks says: headers webhook-id (the same on every retry: drop repeats by it), webhook-timestamp and " +
		"webhook-signature (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` with the secret), body " +
		"`{\"type\": \"task.reminder\", \"timestamp\", \"data\": {\"task\", \"reminder\"}}`. The answer holds the " +
		"signing secret (`whsec_` and base64), shown this once. The URL must be https on a public address (422 at body.url " +
		"otherwise, saying why). A failed delivery is retried with backoff over about three days; a 410 answer removes the webhook."},
	"list-webhooks":  {"List webhooks", "The caller's webhooks, oldest first, without their secrets."},
	"delete-webhook": {"Delete a webhook", "Removes one of the caller's webhooks: nothing more is posted to it. 404 for an unknown id."},
	"create-push-subscription": {"Register a browser for Web Push", "Takes the browser's PushSubscription.toJSON() " +
		"(`{\"endpoint\", \"keys\": {\"p256dh\", \"auth\"}}`), subscribed with the service's VAPID public key; the caller's " +
		"reminders are pushed to it (RFC 8030, encrypted as RFC 8291 says). The same endpoint again replaces its keys and keeps " +
		"its id. 422 when the endpoint is not https on a public address, the keys do not decode, or the service has no VAPID " +
		"keys. A subscription the push service answers 404 or 410 for is removed."},
	"list-push-subscriptions":  {"List Web Push subscriptions", "The caller's registered browsers, oldest first, without their keys."},
	"delete-push-subscription": {"Delete a Web Push subscription", "Removes one of the caller's browsers. 404 for an unknown id."},
	"create-list": {"Create a list", "Creates a list at the bottom of the caller's lists. name: 1 to 100 characters after trimming, " +
		"different, ignoring case, from the name of every live list the caller owns (409 `List name already exists` otherwise; lists " +
		"shared with the caller do not count; a hand-over may still leave its new owner with two lists of one name); color: `#rrggbb` or null." + idempotencyDoc},
	"get-list": {"Get a list", "One of the caller's lists, or one shared with them (at the caller's own `position`), with its counts. " +
		"Another user's list is 404, as if it did not exist; so is a list in the trash. With If-None-Match naming the current ETag: " +
		"304 and no body (the counts are not part of the version: a change of its tasks does not change the list's ETag); " +
		"never for a member, whose `position` is their own and not part of the list's version."},
	"patch-list": {"Rename or recolor a list", "Changes only what the body names: a JSON Merge Patch (RFC 7396), sent as " +
		"`application/merge-patch+json` or `application/json`. name cannot be null; color null removes it. A new name another " +
		"list the caller owns has is 409, for an admin of a shared list too: the admin's own lists, never the owner's (so a rename " +
		"tells nobody the names of lists they cannot see, and the owner may end with two lists of one name). Keeping the name " +
		"(another case, or only a new color) is never 409. An empty patch `{}` changes nothing." + listIfMatchDoc},
	"delete-list": {"Delete a list", "Moves one of the caller's lists and all its tasks to the trash, in one step: they are 404 and left " +
		"out of lists and counts until the list is restored (POST .../restore, which brings back the tasks that went " +
		"with it, and not those that were in the trash on their own before). `permanent=true` deletes the list and " +
		"all its tasks for good, from the sidebar or the trash." + listIfMatchDoc},
	"restore-list": {"Restore a list", "Brings a list back from the trash with the tasks deleted with it, as they were. 409 when another list " +
		"the caller owns took its name meanwhile (rename that one first). Restoring a list that is not in the trash returns it as it is." + idempotencyDoc},
	"move-list": {"Move a list", "Places a list in the caller's sidebar right after `after_id` or right before `before_id`, another list " +
		"of that sidebar: the caller's own or one shared with them (404 otherwise); neither: at the top. The sidebar's order is " +
		"personal: the owner's move changes only this list's `position` and returns it one version up; a member's move (any role, " +
		"a viewer too) changes only the member's own place for the list, which they see as its `position`, and nothing anybody else " +
		"sees: not the owner's order, not another member's, not the list's version, updated_at or ETag (so nobody's If-Match " +
		"fails for it). It is a change of the list in that member's change feed only. If-Match is compared with the list's version." +
		listIfMatchDoc + idempotencyDoc},
	"list-trashed-lists": {"List the trashed lists", "The caller's lists in the trash, the most recently deleted first, each with " +
		"`deleted_at`; their counts are 0 (their tasks are in the trash with them). `[]` when there are none."},
	"run-commands": {"Apply a queue of offline writes", "Up to 100 commands, applied in order, each as its REST route would apply it " +
		"(the command's args are that route's body, checked by the same rules). Each command id is kept 30 days: a command sent again " +
		"(a whole batch resent after a lost response, even at once) answers its first result with replayed: true and changes nothing. " +
		"A create's temp_id may stand for its id in later commands (entity_id, list_id, parent_id, after_id, before_id...). " +
		"Each command has its own result and one that fails undoes no other, unless atomic is true. The cursor is the change feed's after the batch."},
	"list-changes": {"Read the change feed", "Every change to the caller's tasks and lists (created, updated, moved, completed, " +
		"trashed, restored, deleted for good) has the next number of the caller's change sequence, in commit order: a client " +
		"that has seen a change never later finds an earlier one it missed. The page holds the changes after `since`, oldest " +
		"first, each entity once at its last change: `upsert` with `data` as a GET returns it now (a task in the trash, or a " +
		"list, as the trash lists it, with `deleted_at`), or `delete` for one deleted for good (a tombstone). Apply the pages " +
		"in order and pass `cursor` as the next `since`; `has_more` says to ask again at once. Without `since`: a snapshot " +
		"of everything live (nothing in the trash), paged, whose cursor then follows the changes. `since=now`: no changes, " +
		"the current cursor. A cursor older than the retained tombstones (CHANGES_RETENTION, 30 days by default) is 410: " +
		"take a snapshot. A cursor of another user, or anything that is not a cursor, is 400. Cursors are URL-safe and " +
		"valid on every instance."},
	"create-calendar-feed": {"Create a calendar feed", "A read-only subscription URL, /calendar/<secret>.ics, that a calendar " +
		"app polls without logging in: the caller's tasks with a due date that are open or were completed in the last 30 days, " +
		"as the ICS export writes them. The secret (32 random bytes, base64url) is in the URL of this answer only; the service " +
		"keeps its SHA-256. Revoke the feed to make its URL 404. The URL is absolute on PUBLIC_URL when it is set."},
	"list-members": {"List a list's members", "The people of a list the caller owns or is a member of: the owner first (role owner), then the members in the order they joined, each with the email and name their last token carried. " +
		"A list that does not exist, is in the trash, or is not shared with the caller is 404 (List not found)."},
	"invite-member": {"Invite someone to a list", "Invites an email with a role (admin, editor, completer, viewer); the invitation waits until a user with that email signs in and accepts or declines it (GET /invitations). " +
		"Needs the role owner or admin; only the owner invites an admin. Inviting an email invited already gives it the new role. " +
		"The email of the owner or of a member is 409 (nobody to invite). Any refusal by role is the 404 of a list that does not exist, with the same body."},
	"set-member-role": {"Change a member's role, or hand the list over", "Sets a member's role. Only the owner makes or changes an admin; an admin changes editors, completers and viewers. " +
		"Role owner hands the list over (only the owner may): the member becomes the owner of the list and of its tasks, and the old owner stays as an admin; never refused for its name (the new owner may own a list of that name already: a refusal would tell the old owner the new one's list names). " +
		"A user who is not a member is 404 (Member not found); a refusal by role is the 404 of a list that does not exist."},
	"remove-member": {"Remove a member, or leave", "Ends a membership. A member removing themself leaves the list, whatever their role; the owner cannot leave (422: hand the list over first). " +
		"Removing someone else needs the rights to change their role. The removed member reaches nothing of the list from then on: its tasks are 404 to them, as for a stranger."},
	"list-invitations":     {"List your invitations", "The invitations waiting for the caller's email (as their token carries it), oldest first, each with the list's id and name, the role and who invited (`[]` when none)."},
	"accept-invitation":    {"Accept an invitation", "Makes the caller a member of the list with the invitation's role, and answers the invitation. An invitation not addressed to the caller's email, or to a list in the trash, is 404."},
	"decline-invitation":   {"Decline an invitation", "Deletes the invitation. An invitation not addressed to the caller's email is 404."},
	"list-calendar-feeds":  {"List calendar feeds", "The caller's calendar feeds, oldest first, without their secrets (`[]` when none)."},
	"revoke-calendar-feed": {"Revoke a calendar feed", "Deletes the feed: its URL answers 404 from now on. Another user's feed is 404."},
	"calendar-feed": {"A calendar feed", "Public: the secret in the URL is the credential (no Authorization header, never a JWT). " +
		"The feed owner's tasks with a due date that are open or were completed in the last 30 days, as `text/calendar` VTODOs. " +
		"A strong ETag (a hash of the file and the feed) with If-None-Match answers 304 without a body while nothing changed; " +
		"Cache-Control: private, max-age=300. An unknown, revoked or malformed secret is 404. The per-IP rate limit counts it."},
	"healthz": {"Liveness", "200 while the process is alive. No auth."},
	"readyz":  {"Readiness", "200 when storage (and, in JWKS mode, the signing keys) can be reached; 503 otherwise. No auth."},
}

var listDescription = fmt.Sprintf("The caller's tasks, with those of the lists shared with the caller "+
	"(a member whose role reads; each task's `user_id` is its owner), oldest first (creation time, then id) unless `sort` says "+
	"otherwise; `[]` when there are none. Every filter must hold; contradicting filters "+
	"(`status=completed&overdue=true`) give `[]`, not an error. Peer spellings of a parameter are "+
	"accepted; the same parameter twice with different values is a 422, except the status filters, "+
	"which must all hold. An empty value is as if absent, except for `status` and its spellings (422, as the "+
	"base contract says).\n\n"+
	"Paging: the body stays a plain array. `X-Total-Count` is the number of tasks that match the "+
	"filters (not the page); `Link: <url>; rel=\"next\"` is the URL of the next page (same "+
	"parameters and a `cursor`; relative to the request unless the server knows its public URL), absent on the last page. Without `limit` the list is returned whole, "+
	"up to the server's ceiling (%d by default), with `Link` when there is more. Pages are keyset "+
	"pages: tasks added between requests never make a page skip or repeat a task.", DefaultListMax)

var (
	titleDoc       = fmt.Sprintf("1 to %d characters (Unicode code points) after trimming surrounding white space; no NUL.", task.MaxTitleLen)
	descriptionDoc = fmt.Sprintf("At most %d characters (Unicode code points); no NUL. null or absent means none.", task.MaxDescriptionLen)
	bulkLimit      = fmt.Sprintf("1 to %d", task.MaxBatch)
)

// ifMatchDoc ends the description of every write that takes If-Match.
const ifMatchDoc = " With If-Match naming the task's ETag, the change happens only if the task is still at that " +
	"version (checked in the same statement that writes): otherwise 412 with the task as it is now, and nothing changes. " +
	"Without If-Match, as before."

// listIfMatchDoc ends the description of every list write that takes
// If-Match.
const listIfMatchDoc = " With If-Match naming the list's ETag, the change happens only if the list is still at that " +
	"version: otherwise 412 with the list as it is now, and nothing changes. Without If-Match, as before."

// idempotencyDoc ends the description of every POST that honours
// Idempotency-Key.
const idempotencyDoc = " Honours `Idempotency-Key`: a repeat of the same request with the same key within 24 hours " +
	"gets the first response again (with `Idempotent-Replayed: true`) and does nothing; the same key with " +
	"another request is 422; a repeat while the first still runs is 409 with `Retry-After`."

// What the error statuses mean, in every operation that can answer them.
var errorDescriptions = map[int]string{
	http.StatusBadRequest:            "since is not a cursor of this user's changes (another user's, or not a cursor at all).",
	http.StatusGone:                  "The cursor is older than the retained history of changes (CHANGES_RETENTION): take a snapshot.",
	http.StatusUnauthorized:          "Missing, malformed, expired or badly signed token.",
	http.StatusForbidden:             "The {user_id} in the URL is not the token's user.",
	http.StatusNotFound:              "No such task for this user: it does not exist, is another user's, or is in a list shared with the user whose role does not allow this request (one answer, with the same body, for every refusal: never 403).",
	http.StatusConflict:              "The token's email belongs to another user id.",
	http.StatusRequestEntityTooLarge: "The body is over 1 MiB.",
	http.StatusUnprocessableEntity:   "The request breaks a rule; one entry per problem.",
	http.StatusTooManyRequests:       "Over the rate limit (per user, or per client IP before the token is checked).",
	http.StatusInternalServerError:   "Something broke on our side; the body says nothing more.",
	http.StatusServiceUnavailable:    "A dependency (database or identity provider) is not available; retry later.",
}

// The response descriptions the headers an operation honours add
// (conditional, notModified, idempotent, errorResponses).
const (
	wwwAuthenticateDoc  = "Always `Bearer`."
	retryAfterDoc       = "Seconds to wait before retrying."
	preconditionDoc     = "If-Match named a version the task no longer has: nothing changed. `current` is the task as it is now, and ETag its tag."
	notModifiedDoc      = "If-None-Match named the current ETag: the client's copy is up to date. No body."
	etagDoc             = "The task's version as an entity tag, \"<id>-<version>\"."
	listETagDoc         = "The list's version as an entity tag, \"<id>-<version>\"."
	listPreconditionDoc = "If-Match named a version the list no longer has: nothing changed. `current` is the list as it is now, and ETag its tag."
	listNotFoundDoc     = "No such list for this user (or it is in the trash)."
	// taskOrListNotFoundDoc ends the 404 of a task operation that names a list.
	taskOrListNotFoundDoc = " Or a list the request names is not the caller's: `List not found`."
	nameTakenDoc          = " Or another list the caller owns has this name, ignoring case: `List name already exists`."
	replayedDoc           = "`true` when this is the stored response of an earlier request with the same Idempotency-Key."
	keyConflictDoc        = "The token's email belongs to another user id; or a request with the same Idempotency-Key " +
		"is still in progress: retry after Retry-After seconds."
	keyRetryAfterDoc = "Seconds to wait before retrying (when the key is in progress)."
	keyProblemDoc    = " Also: an Idempotency-Key that is not 1 to 255 printable characters, or that was used " +
		"for another request (`[\"header\", \"Idempotency-Key\"]`)."
)
