package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// Offline commands (issue 17): POST /api/{user_id}/commands applies a
// queue of writes a client made offline, in order, each at most once.
//
// A command is the body of a REST route: it is applied by running that
// route's operation in the process (commandCall), with the batch's
// identity and in the batch's unit of work, so that every command is
// decoded, filtered and validated by the same code as the route, and runs
// the same use case. Each command id is claimed as an Idempotency-Key of
// its own namespace (commandKey), kept CommandTTL: the command's result is
// stored with its id in the transaction that did its write, so a replay
// answers the first result and writes nothing; a duplicate arriving while
// the first runs waits for it (its claim is a row with a unique key (user,
// key) on every store).

const (
	commandsPath = "/api/{user_id}/commands"
	// MaxCommands is the most commands one request carries.
	MaxCommands = 100
	// CommandTTL is how long a command id and its result are kept.
	CommandTTL = 30 * 24 * time.Hour
	// commandKeyPrefix puts command ids beside Idempotency-Keys without
	// meeting them: a key is printable ASCII, and this is not.
	commandKeyPrefix = "\x1fcommand:"

	msgCommandReused  = "This command id was used for another command within 30 days"
	msgCommandBusy    = "A command with this id is still being applied; send it again"
	msgCommandSkipped = "Not applied: another command of this atomic batch failed"
	msgCommandUnknown = "Unknown temp_id or entity: no earlier command created it"
	msgCommandNoStore = "Commands need the store that keeps command ids"
)

// Command is one queued write.
type Command struct {
	ID          string          `json:"id" minLength:"1" maxLength:"200" pattern:"^[ -~]+$" doc:"A client-made id for this command (a UUID), sent again unchanged on every resend: a command already applied within 30 days answers its first result and changes nothing." example:"9b2f6d1e-8a52-4c1e-9a7c-0d0c1d7c3b11"`
	Type        string          `json:"type" enum:"task.create,task.update,task.move,task.complete,task.delete,task.restore,list.create,list.update,list.move,list.delete" doc:"The write: task.create is POST .../tasks, task.update PATCH .../tasks/{id}, task.move POST .../tasks/{id}/move, task.complete PATCH .../tasks/{id}/complete, task.delete DELETE .../tasks/{id}, task.restore POST .../tasks/{id}/restore, list.create POST .../lists, list.update PATCH .../lists/{list_id}, list.move POST .../lists/{list_id}/move, list.delete DELETE .../lists/{list_id}."`
	EntityID    json.RawMessage `json:"entity_id,omitempty" doc:"The task's or list's id (an integer), or the temp_id an earlier command gave it; required by every type but the creates."`
	TempID      string          `json:"temp_id,omitempty" maxLength:"200" doc:"For a create: a name for the new entity that later commands use wherever an id goes (entity_id, and list_id, parent_id, after_id, before_id... in args); the answer maps it to the id (temp_id_mapping)."`
	BaseVersion *int64          `json:"base_version,omitempty" minimum:"1" doc:"The version the change was made on (as If-Match): task.update, task.move, task.complete, task.delete, list.update, list.move and list.delete then apply only if the entity is still at it, else 412 with the current entity."`
	Args        json.RawMessage `json:"args,omitempty" doc:"The body of the matching route, as that route takes it (task.complete takes {\"completed\": true}); none for the deletes and restore."`
}

// opaqueObject marks a schema whose object bodyFilter keeps as it came.
const opaqueObject = "x-opaque-object"

// TransformSchema documents args (any object: the route's body) and
// entity_id (an id or a temp_id).
func (Command) TransformSchema(r huma.Registry, s *huma.Schema) *huma.Schema {
	if p := s.Properties["args"]; p != nil {
		*p = huma.Schema{Type: huma.TypeObject, Description: p.Description, AdditionalProperties: true,
			Extensions: map[string]any{opaqueObject: true}}
	}
	if p := s.Properties["entity_id"]; p != nil {
		*p = huma.Schema{Description: p.Description, Extensions: map[string]any{opaqueObject: true}, OneOf: []*huma.Schema{
			{Type: huma.TypeInteger, Minimum: new(float64(1))},
			{Type: huma.TypeString, MinLength: new(1), MaxLength: new(200)},
		}}
	}
	return s
}

// CommandsRequest is the body of POST .../commands.
type CommandsRequest struct {
	Commands   []Command `json:"commands" minItems:"1" maxItems:"100" nullable:"false" doc:"At most 100, applied in this order."`
	OnConflict string    `json:"on_conflict,omitempty" enum:"merge,reject" doc:"What a task.update with base_version does when somebody changed some of its fields since that version (a 409 naming them): merge (the default) applies its other fields; reject applies none of it."`
	Atomic     bool      `json:"atomic,omitempty" doc:"All or nothing: when one command fails (status 400 and above), none is applied, the one that failed has its result and the others 424; none is recorded, so the batch may be sent again."`
}

// CommandResult is what one command came to.
type CommandResult struct {
	_      struct{}        `json:"-" additionalProperties:"false"`
	Status int             `json:"status" doc:"The status the matching route would have answered (200 for the deletes); 424: not applied, another command of an atomic batch failed." example:"201"`
	Entity json.RawMessage `json:"entity,omitempty" doc:"The task or list written, as the route answers it; with 412, the entity as it is now."`
	Detail json.RawMessage `json:"detail,omitempty" doc:"Why it failed: a sentence, or with 422 the route's list of problems ({loc, msg, type})."`
	// Replayed marks a result kept from an earlier send of the command.
	Conflicts []string `json:"conflicts,omitempty" maxItems:"20" doc:"With 409 from a task.update with base_version: the fields somebody else changed since then, not applied (entity is the task as it is now)."`
	Replayed  bool     `json:"replayed,omitempty" doc:"The command was applied by an earlier send; this is its result then, and nothing was changed now."`
}

// CommandsResponse is the answer of POST .../commands.
type CommandsResponse struct {
	_             struct{}                 `json:"-" additionalProperties:"false"`
	Results       map[string]CommandResult `json:"results" nullable:"false" doc:"One per command id."`
	TempIDMapping map[string]int64         `json:"temp_id_mapping" nullable:"false" doc:"Each temp_id of a create that succeeded (now or in an earlier send), and the id it got."`
	Cursor        string                   `json:"cursor,omitempty" doc:"The change feed's cursor after the batch: every change the batch made is at or before it. Changes other devices made before the batch are before it too: read the feed from the cursor you had before sending, up to this one, before continuing from here."`
}

type commandsInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	Body   CommandsRequest
}

type commandsOutput struct {
	Body CommandsResponse
}

// commandCallKey marks the context of a command run in the process: the
// identity of the batch that runs it (authenticate takes it instead of a
// token; the rate limits and the body budget have counted the batch).
type commandCallKey struct{}

// commandCallOf reports whether ctx is a command's.
func commandCallOf(ctx context.Context) (auth.Identity, bool) {
	id, ok := ctx.Value(commandCallKey{}).(auth.Identity)
	return id, ok
}

// outerOnly runs m for requests, and skips it for the commands a batch
// runs in the process.
func outerOnly(m func(huma.Context, func(huma.Context))) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if _, ok := commandCallOf(ctx.Context()); ok {
			next(ctx)
			return
		}
		m(ctx, next)
	}
}

type commandRoute struct {
	method, suffix string
	list, entity   bool // a list's route; needs entity_id
}

var commandRoutes = map[string]commandRoute{
	"task.create":   {method: http.MethodPost, suffix: "/tasks"},
	"task.update":   {method: http.MethodPatch, suffix: "/tasks/{id}", entity: true},
	"task.move":     {method: http.MethodPost, suffix: "/tasks/{id}/move", entity: true},
	"task.complete": {method: http.MethodPatch, suffix: "/tasks/{id}/complete", entity: true},
	"task.delete":   {method: http.MethodDelete, suffix: "/tasks/{id}", entity: true},
	"task.restore":  {method: http.MethodPost, suffix: "/tasks/{id}/restore", entity: true},
	"list.create":   {method: http.MethodPost, suffix: "/lists", list: true},
	"list.update":   {method: http.MethodPatch, suffix: "/lists/{id}", list: true, entity: true},
	"list.move":     {method: http.MethodPost, suffix: "/lists/{id}/move", list: true, entity: true},
	"list.delete":   {method: http.MethodDelete, suffix: "/lists/{id}", list: true, entity: true},
}

// errCommandFailed rolls back an atomic batch.
var errCommandFailed = errors.New("a command of the atomic batch failed")

func (h *handlers) commands(ctx context.Context, in *commandsInput) (*commandsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	id, _ := identityOf(ctx)
	if h.keys.Store == nil || h.keys.Tx == nil {
		return nil, newHTTPError(http.StatusServiceUnavailable, msgCommandNoStore)
	}
	b := &batch{h: h, actor: a, owner: a.Owner(), identity: id, mapping: map[string]int64{}, reject: in.Body.OnConflict == "reject",
		out: CommandsResponse{Results: map[string]CommandResult{}, TempIDMapping: map[string]int64{}}}
	// Through the error mapper: a unit of work PostgreSQL aborted past the
	// store's bound is a 503 with Retry-After (it wrote nothing), not the
	// 500 of an error huma does not know.
	if err := b.apply(ctx, in.Body.Commands, in.Body.Atomic); err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	if page, err := h.svc.Changes(ctx, a, application.SinceNow, 0); err == nil {
		b.out.Cursor = page.Cursor
	} else if !errors.Is(err, application.ErrNoChanges) {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &commandsOutput{Body: b.out}, nil
}

// batch is one request's commands as they are applied.
type batch struct {
	h        *handlers
	actor    application.Actor
	owner    auth.UserID
	identity auth.Identity
	mapping  map[string]int64 // temp_id -> id
	reject   bool             // on_conflict: reject
	out      CommandsResponse
}

// claim claims c's id; a stored result when c was applied before. A
// duplicate being applied by another request is waited for.
func (b *batch) claim(ctx context.Context, c Command) (application.IdempotencyClaim, *CommandResult, error) {
	fp := sha256.New()
	_ = json.NewEncoder(fp).Encode([]any{c.Type, c.EntityID, c.TempID, c.BaseVersion, c.Args})
	claim := application.IdempotencyClaim{
		Key:         application.IdempotencyKey{Owner: b.owner, Value: commandKeyPrefix + c.ID},
		Fingerprint: hex.EncodeToString(fp.Sum(nil)),
		Token:       rand.Text(),
		Lease:       b.h.keys.Lease,
		TTL:         CommandTTL,
	}
	if claim.Lease <= 0 {
		claim.Lease = time.Minute
	}
	wait := 5 * time.Millisecond
	for {
		claim.Now = time.Now()
		stored, err := b.h.keys.Store.Begin(ctx, claim)
		switch {
		case err == nil && stored == nil:
			return claim, nil, nil
		case err == nil:
			var r CommandResult
			if json.Unmarshal(stored.Body, &r) != nil {
				r = CommandResult{Status: stored.Status}
			}
			r.Replayed = true
			return claim, &r, nil
		case errors.Is(err, application.ErrKeyMismatch):
			return claim, &CommandResult{Status: http.StatusUnprocessableEntity, Detail: jsonString(msgCommandReused)}, nil
		case errors.Is(err, application.ErrKeyInFlight):
			select {
			case <-ctx.Done():
				return claim, &CommandResult{Status: http.StatusConflict, Detail: jsonString(msgCommandBusy)}, nil
			case <-time.After(wait):
			}
			wait = min(2*wait, 100*time.Millisecond)
		default:
			return claim, nil, err
		}
	}
}

// apply applies cmds in one unit of work, each command in a savepoint of
// its own with the claim of its id: its write and the record of its result
// are kept together, and a failed command is undone alone (atomic: the
// whole unit is). A duplicate sent by another request meanwhile waits on
// the claim's unique key (user, id) until this unit ends, then replays.
func (b *batch) apply(ctx context.Context, cmds []Command, atomic bool) error {
	failed := -1
	results := make([]CommandResult, len(cmds))
	err := b.h.svc.InTx(ctx, func(tx context.Context) error {
		// From the start: the store may run the unit again when the
		// database aborted it (a deadlock), and nothing of a failed run
		// stays.
		failed, b.mapping, b.out.TempIDMapping = -1, map[string]int64{}, map[string]int64{}
		if locks, writes := commandLocks(cmds); writes {
			// The batch's commands lock tasks in the batch's order, and a
			// create takes the owner's feed and counters first: the
			// locks in the one order of every writer, up front, with the
			// scope locks of the owners of the shared lists it writes
			// into or changes, and of the tasks it writes under or
			// beside (commandLocks).
			if err := b.h.svc.LockTasks(tx, b.actor, locks); err != nil {
				return err
			}
		}
		for i, c := range cmds {
			var r CommandResult
			err := b.h.svc.InTx(tx, func(tx context.Context) error {
				claim, done, err := b.claim(tx, c)
				if err != nil {
					return err
				}
				if done != nil {
					r = *done
					return nil
				}
				r = b.run(tx, c)
				if r.Status >= http.StatusInternalServerError || (atomic && r.Status >= http.StatusBadRequest) {
					return errCommandFailed
				}
				return b.finish(tx, claim, r)
			})
			switch {
			case errors.Is(err, errCommandFailed) && atomic:
				failed, results[i] = i, r
				return err
			case errors.Is(err, errCommandFailed):
			case err != nil:
				return err
			}
			results[i] = r
			b.mapTempID(c, r)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errCommandFailed) {
		return err
	}
	if failed < 0 {
		for i, c := range cmds {
			b.out.Results[c.ID] = results[i]
		}
		return nil
	}
	// Atomic and one failed: nothing was kept, not even the replays' maps.
	b.out.TempIDMapping = map[string]int64{}
	for i, c := range cmds {
		switch {
		case i == failed:
			b.out.Results[c.ID] = results[i]
		case i < failed && results[i].Replayed:
			b.out.Results[c.ID] = results[i]
			b.mapTempID(c, results[i])
		default:
			b.out.Results[c.ID] = CommandResult{Status: http.StatusFailedDependency, Detail: jsonString(msgCommandSkipped)}
		}
	}
	return nil
}

// commandLocks is what cmds will write, as far as their ids say, for the
// batch's up-front locks (application.Locks), and whether they write
// anything those cover (every command but a list.create alone):
//   - Tasks: the existing tasks the task commands name as their entity;
//   - Named: the existing tasks they name in args (parent_id, after_id,
//     before_id: a create under a task of another owner's shared list
//     writes into that owner's rows, its list named by no list_id);
//   - Lists: the existing lists the task commands name in args (list_id:
//     where a create, a move or an update puts a task), the list commands'
//     entities (an admin's edit, a member's move or leave of a shared
//     list take its owner's scope lock) and their anchors (after_id,
//     before_id).
//
// A temp_id names an entity the batch creates: a task created in a shared
// list or under a shared task is locked as that list or task is, and a
// list the batch creates is the caller's own.
func commandLocks(cmds []Command) (application.Locks, bool) {
	var l application.Locks
	writes := false
	for _, c := range cmds {
		rt, ok := commandRoutes[c.Type]
		if !ok {
			continue
		}
		var args struct {
			ListID   json.RawMessage `json:"list_id"`
			ParentID json.RawMessage `json:"parent_id"`
			AfterID  json.RawMessage `json:"after_id"`
			BeforeID json.RawMessage `json:"before_id"`
		}
		if len(c.Args) > 0 && json.Unmarshal(c.Args, &args) != nil {
			args.ListID, args.ParentID, args.AfterID, args.BeforeID = nil, nil, nil, nil
		}
		if rt.list {
			if id, ok := literalID(c.EntityID); ok && rt.entity {
				l.Lists = append(l.Lists, list.ID(id))
			}
			for _, raw := range []json.RawMessage{args.AfterID, args.BeforeID} {
				if id, ok := literalID(raw); ok {
					l.Lists = append(l.Lists, list.ID(id))
				}
			}
			writes = writes || rt.entity || len(l.Lists) > 0
			continue
		}
		writes = true
		if id, ok := literalID(c.EntityID); ok && rt.entity {
			l.Tasks = append(l.Tasks, task.ID(id))
		}
		if id, ok := literalID(args.ListID); ok {
			l.Lists = append(l.Lists, list.ID(id))
		}
		for _, raw := range []json.RawMessage{args.ParentID, args.AfterID, args.BeforeID} {
			if id, ok := literalID(raw); ok {
				l.Named = append(l.Named, task.ID(id))
			}
		}
	}
	return l, writes
}

// literalID is the id raw holds when it is a positive integer (not a
// temp_id, not null).
func literalID(raw json.RawMessage) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return id, err == nil && id > 0
}

func (b *batch) finish(tx context.Context, claim application.IdempotencyClaim, r CommandResult) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.h.keys.Store.Finish(tx, claim, application.StoredResponse{Status: r.Status, Body: body})
}

// mapTempID maps c's temp_id when it created an entity.
func (b *batch) mapTempID(c Command, r CommandResult) {
	if c.TempID == "" || r.Status >= http.StatusBadRequest || len(r.Entity) == 0 {
		return
	}
	var e struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(r.Entity, &e) == nil && e.ID > 0 {
		b.mapping[c.TempID] = e.ID
		b.out.TempIDMapping[c.TempID] = e.ID
	}
}

// run applies c through its route's operation, in the process.
func (b *batch) run(tx context.Context, c Command) CommandResult {
	rt := commandRoutes[c.Type]
	path := "/api/" + url.PathEscape(string(b.owner)) + rt.suffix
	var id int64
	if rt.entity {
		var ok bool
		if id, ok = b.resolve(c.EntityID); !ok {
			return CommandResult{Status: http.StatusNotFound, Detail: jsonString(msgCommandUnknown)}
		}
		path = strings.Replace(path, "{id}", strconv.FormatInt(id, 10), 1)
	} else if len(bytes.TrimSpace(c.EntityID)) > 0 && string(bytes.TrimSpace(c.EntityID)) != "null" {
		return validationResult("entity_id", "a create takes no entity_id", "extra_forbidden")
	}
	args, ok := b.substitute(c.Args)
	if !ok {
		return CommandResult{Status: http.StatusNotFound, Detail: jsonString(msgCommandUnknown)}
	}
	var body []byte
	if rt.method != http.MethodDelete && !(c.Type == "task.restore") {
		body = args
		if len(body) == 0 {
			body = []byte("{}")
		}
	}
	// A route context of its own: chi takes one it finds for a sub-router's.
	inner := context.WithValue(context.WithValue(tx, commandCallKey{}, b.identity), chi.RouteCtxKey, (*chi.Context)(nil))
	if b.reject {
		inner = context.WithValue(inner, rejectKey{}, true)
	}
	req, err := http.NewRequestWithContext(inner, rt.method, path, bytes.NewReader(body))
	if err != nil {
		return CommandResult{Status: http.StatusInternalServerError, Detail: jsonString(msgInternal)}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.BaseVersion != nil && rt.entity {
		req.Header.Set("If-Match", `"`+strconv.FormatInt(id, 10)+"-"+strconv.FormatInt(*c.BaseVersion, 10)+`"`)
		if c.Type == "task.update" {
			// An update made on base_version merges (merge.go).
			req.Header.Set("Prefer", "merge")
		}
	}
	var r CommandResult
	// In a savepoint of its own: a command that fails leaves the
	// transaction as it found it, for the next command and its record.
	// Unless PostgreSQL aborted a statement of it (40P01, 40001): then the
	// store fails the savepoint with the abort, whatever the route
	// answered, and the whole batch runs again (sqlstore's txRun).
	err = b.h.svc.InTx(req.Context(), func(tx context.Context) error {
		w := &commandRecorder{header: http.Header{}}
		b.h.router.ServeHTTP(w, req.WithContext(tx))
		r = commandResult(w)
		if r.Status >= http.StatusBadRequest && w.header.Get(mergedHeader) == "" {
			return errCommandFailed
		}
		return nil
	})
	if err != nil && !errors.Is(err, errCommandFailed) && r.Status < http.StatusBadRequest {
		return CommandResult{Status: http.StatusInternalServerError, Detail: jsonString(msgInternal)}
	}
	return r
}

// resolve is the id raw names: an integer, or a temp_id of this batch.
func (b *batch) resolve(raw json.RawMessage) (int64, bool) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	switch v := v.(type) {
	case float64:
		n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		return n, err == nil && n > 0
	case string:
		id, ok := b.mapping[v]
		return id, ok
	}
	return 0, false
}

// substitute replaces, in args, each string value of a field named id or
// ending in _id (list_id, parent_id, after_id, before_id...) that is a
// temp_id of this batch with its id. A string no create named is left
// for the route to refuse.
func (b *batch) substitute(args json.RawMessage) (json.RawMessage, bool) {
	if len(b.mapping) == 0 || len(args) == 0 {
		return args, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(args, &m) != nil {
		return args, true // the route answers 422
	}
	changed := false
	for k, v := range m {
		if k != "id" && !strings.HasSuffix(k, "_id") {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			continue
		}
		if id, ok := b.mapping[s]; ok {
			m[k] = json.RawMessage(strconv.FormatInt(id, 10))
			changed = true
		}
	}
	if !changed {
		return args, true
	}
	out, err := json.Marshal(m)
	return out, err == nil
}

// commandResult is the route's response as a command's result.
func commandResult(w *commandRecorder) CommandResult {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent {
		status = http.StatusOK
	}
	r := CommandResult{Status: status}
	body := bytes.TrimSpace(w.buf.Bytes())
	if len(body) == 0 {
		return r
	}
	if status < http.StatusBadRequest {
		r.Entity = json.RawMessage(body)
		return r
	}
	var p struct {
		Detail    json.RawMessage `json:"detail"`
		Current   json.RawMessage `json:"current"`
		Task      json.RawMessage `json:"task"`
		Conflicts []string        `json:"conflicts"`
	}
	if json.Unmarshal(body, &p) == nil {
		r.Detail, r.Entity, r.Conflicts = p.Detail, p.Current, p.Conflicts
		if len(p.Task) > 0 {
			r.Entity = p.Task
		}
	}
	return r
}

func validationResult(field, msg, typ string) CommandResult {
	d, _ := json.Marshal([]ValidationItem{{Loc: []any{"body", field}, Msg: msg, Type: typ}})
	return CommandResult{Status: http.StatusUnprocessableEntity, Detail: d}
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// commandRecorder keeps a command's response.
type commandRecorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (w *commandRecorder) Header() http.Header { return w.header }

func (w *commandRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(p)
}

func (w *commandRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
