// client.ts is the todo API as the Next.js frontend would use it, typed only
// by the types that openapi-typescript generates from the service's OpenAPI
// document (generated/schema.d.ts). tsclient_test.go generates them and runs
// tsc: when the document drifts from what the frontend relies on, this file
// stops compiling. Nothing here is written by hand about the shapes.
import type { paths } from "./generated/schema";

type TasksPath = paths["/api/{user_id}/tasks"];
type TaskPath = paths["/api/{user_id}/tasks/{id}"];
type CompletePath = paths["/api/{user_id}/tasks/{id}/complete"];
type MovePath = paths["/api/{user_id}/tasks/{id}/move"];
type MoveManyPath = paths["/api/{user_id}/tasks/move"];
type ListsPath = paths["/api/{user_id}/lists"];
type ListPath = paths["/api/{user_id}/lists/{list_id}"];
type ListMovePath = paths["/api/{user_id}/lists/{list_id}/move"];
type TrashedListsPath = paths["/api/{user_id}/trash/lists"];
type SkipPath = paths["/api/{user_id}/tasks/{id}/skip"];
type OccurrencesPath = paths["/api/{user_id}/tasks/{id}/occurrences"];
type HistoryPath = paths["/api/{user_id}/tasks/{id}/occurrences/history"];
type TaskHistoryPath = paths["/api/{user_id}/tasks/{id}/history"];
type RevertPath = paths["/api/{user_id}/tasks/{id}/history/{version}/revert"];
type ChangesPath = paths["/api/{user_id}/changes"];
type EventsPath = paths["/api/{user_id}/events"];
type TicketPath = paths["/api/{user_id}/events/ticket"];
type CommandsPath = paths["/api/{user_id}/commands"];
type ExportPath = paths["/api/{user_id}/export"];
type ImportsPath = paths["/api/{user_id}/imports"];
type CalendarFeedsPath = paths["/api/{user_id}/calendar-feeds"];
type CalendarFeedPath = paths["/api/{user_id}/calendar-feeds/{id}"];
type CalendarPath = paths["/calendar/{secret}.ics"];
type MembersPath = paths["/api/{user_id}/lists/{list_id}/members"];
type MemberPath = paths["/api/{user_id}/lists/{list_id}/members/{member_user_id}"];
type InvitationsPath = paths["/api/{user_id}/invitations"];
type AcceptPath = paths["/api/{user_id}/invitations/{invitation_id}/accept"];

type WebhooksPath = paths["/api/{user_id}/webhooks"];
type WebhookPath = paths["/api/{user_id}/webhooks/{webhook_id}"];
type PushPath = paths["/api/{user_id}/push-subscriptions"];
type PushOnePath = paths["/api/{user_id}/push-subscriptions/{subscription_id}"];

type JSONBody<R> = R extends { content: { "application/json": infer B } } ? B : never;

/** Task is one task as the API returns it. */
export type Task = JSONBody<TasksPath["get"]["responses"][200]>[number];
/** NewTask is the body of POST /api/{user_id}/tasks. */
export type NewTask = JSONBody<NonNullable<TasksPath["post"]["requestBody"]>>;
/** TaskUpdate is the body of PUT /api/{user_id}/tasks/{id}. */
export type TaskUpdate = JSONBody<NonNullable<TaskPath["put"]["requestBody"]>>;
/** CompleteBody is the optional body of PATCH .../complete. */
export type CompleteBody = JSONBody<NonNullable<CompletePath["patch"]["requestBody"]>>;
/** Status filters the list. */
export type Status = NonNullable<NonNullable<TasksPath["get"]["parameters"]["query"]>["status"]>;
/** ValidationErrorBody is FastAPI's 422 body: one entry per problem. */
export type ValidationErrorBody = JSONBody<TasksPath["post"]["responses"][422]>;
/** ErrorBody is FastAPI's plain error body, e.g. {"detail": "Task not found"}. */
export type ErrorBody = JSONBody<TaskPath["get"]["responses"][404]>;
/** ListQuery is every query parameter of GET /api/{user_id}/tasks. */
export type ListQuery = NonNullable<TasksPath["get"]["parameters"]["query"]>;
/** Move is the body of POST .../tasks/{id}/move: where the task goes. */
export type Move = JSONBody<NonNullable<MovePath["post"]["requestBody"]>>;
/** MoveMany is the body of POST .../tasks/move: tasks moved together. */
export type MoveMany = JSONBody<MoveManyPath["post"]["requestBody"]>;
/** TodoList is one list (the sidebar's entry) with its counts. */
export type TodoList = JSONBody<ListsPath["get"]["responses"][200]>[number];
/** NewList is the body of POST /api/{user_id}/lists. */
export type NewList = JSONBody<ListsPath["post"]["requestBody"]>;
/** ListPatch is the merge patch of PATCH .../lists/{list_id}. */
export type ListPatch = JSONBody<ListPath["patch"]["requestBody"]>;
/** ListMove is the body of POST .../lists/{list_id}/move. */
export type ListMove = JSONBody<NonNullable<ListMovePath["post"]["requestBody"]>>;
/** TrashedList is a list in the trash. */
export type TrashedList = JSONBody<TrashedListsPath["get"]["responses"][200]>[number];
/** ChangesPage is a page of the change feed. */
export type ChangesPage = JSONBody<ChangesPath["get"]["responses"][200]>;
/** Change is one entry of the feed: data is a task or a list, trashed or not. */
export type Change = ChangesPage["changes"][number];
/** ChangesQuery is since (a cursor, "now", or absent: a snapshot) and limit. */
export type ChangesQuery = NonNullable<ChangesPath["get"]["parameters"]["query"]>;
/** CommandBatch is the body of POST .../commands: an offline queue (at most 100). */
export type CommandBatch = JSONBody<CommandsPath["post"]["requestBody"]>;
/** Command is one queued write; args is the body of its REST route. */
export type Command = CommandBatch["commands"][number];
/** CommandsAnswer is each command's result, the temp_id mapping and the feed's cursor. */
export type CommandsAnswer = JSONBody<CommandsPath["post"]["responses"][200]>;
/** CommandResult is what one command came to (a replay has replayed: true). */
export type CommandResult = CommandsAnswer["results"][string];

/** SkipBody is the optional body of POST .../skip. */
export type SkipBody = JSONBody<NonNullable<SkipPath["post"]["requestBody"]>>;
/** Occurrence is one occurrence of a (repeating) task. */
export type Occurrence = JSONBody<OccurrencesPath["get"]["responses"][200]>[number];
/** OccurrencesQuery is the window of GET .../occurrences. */
export type OccurrencesQuery = OccurrencesPath["get"]["parameters"]["query"];
/** Revision is one write's changes to a task: version, changed fields (from, to), at, by (who wrote it), created (the creation). */
export type Revision = JSONBody<TaskHistoryPath["get"]["responses"][200]>[number];
/** MergeConflict is a 409 of a merge or a revert: the fields in conflict and the task now. */
export type MergeConflict = JSONBody<RevertPath["post"]["responses"][409]>;
/** PassedOccurrence is one entry of a repeating task's history. */
export type PassedOccurrence = JSONBody<HistoryPath["get"]["responses"][200]>[number];
/** ExportQuery is the query of GET /api/{user_id}/export. */
export type ExportQuery = NonNullable<ExportPath["get"]["parameters"]["query"]>;
/** ImportQuery is the query of POST /api/{user_id}/imports. */
export type ImportQuery = ImportsPath["post"]["parameters"]["query"];
/** ImportResult is what an import created (201) or would create (200, dry_run); the file's trash is created in the trash (trashed: true). */
export type ImportResult = JSONBody<ImportsPath["post"]["responses"][201]>;
/** ImportPreview is a dry run's answer. */
export type ImportPreview = JSONBody<ImportsPath["post"]["responses"][200]>;
/** NewWebhook is a registered webhook with its secret, shown once. */
export type NewWebhook = JSONBody<WebhooksPath["post"]["responses"][201]>;
/** WebhookBody is the body of POST .../webhooks. */
export type WebhookBody = JSONBody<NonNullable<WebhooksPath["post"]["requestBody"]>>;
/** Webhook is a registered webhook, without its secret. */
export type Webhook = JSONBody<WebhooksPath["get"]["responses"][200]>[number];
/** PushSubscriptionBody is what the browser's PushSubscription.toJSON() gives. */
export type PushSubscriptionBody = JSONBody<NonNullable<PushPath["post"]["requestBody"]>>;
/** PushSubscription is a registered browser. */
export type PushSubscription = JSONBody<PushPath["post"]["responses"][201]>;
type WebhookID = WebhookPath["delete"]["parameters"]["path"]["webhook_id"];
type SubscriptionID = PushOnePath["delete"]["parameters"]["path"]["subscription_id"];
/** Recurrence is how a task repeats, as the API shows it. */
export type Recurrence = NonNullable<Task["recurrence"]>;
/** Member is one person of a shared list: the owner first, then the members. */
export type Member = JSONBody<MembersPath["get"]["responses"][200]>[number];
/** Invite is the body of POST .../lists/{list_id}/members: an email and a role. */
export type Invite = JSONBody<MembersPath["post"]["requestBody"]>;
/** Invitation is an invitation to a shared list. */
export type Invitation = JSONBody<InvitationsPath["get"]["responses"][200]>[number];
/** MemberRole is the body of PATCH .../members/{member_user_id} (role owner hands the list over). */
export type MemberRole = JSONBody<MemberPath["patch"]["requestBody"]>;
/** NewCalendarFeed is the (optional) body of POST .../calendar-feeds. */
export type NewCalendarFeed = JSONBody<NonNullable<CalendarFeedsPath["post"]["requestBody"]>>;
/** CreatedCalendarFeed is a feed just created: its URL, with the secret, is shown only then. */
export type CreatedCalendarFeed = JSONBody<CalendarFeedsPath["post"]["responses"][201]>;
/** CalendarFeed is a feed as listed, without its URL. */
export type CalendarFeed = JSONBody<CalendarFeedsPath["get"]["responses"][200]>[number];
/** RevokedCalendarFeed is the 204 of DELETE .../calendar-feeds/{id}. */
export type RevokedCalendarFeed = CalendarFeedPath["delete"]["responses"][204];
/** CalendarFile is the public GET /calendar/{secret}.ics (no token): text/calendar. */
export type CalendarFile = CalendarPath["get"]["responses"][200]["content"]["text/calendar; charset=utf-8"];
/** EventsTicket is what POST .../events/ticket answers. */
export type EventsTicket = JSONBody<TicketPath["post"]["responses"][201]>;
/** EventsQuery is the query of GET .../events. */
export type EventsQuery = NonNullable<EventsPath["get"]["parameters"]["query"]>;
/** ChangeEvent is the data of one event of the stream (documented in prose: SSE has no schema). */
export type ChangeEvent = { seq: number; entity: "task" | "list"; op: "upsert" | "delete"; id: number };

/** APIError carries what the frontend shows for a failed call. */
export class APIError extends Error {
  constructor(
    readonly status: number,
    readonly problems: { field: string; message: string }[],
  ) {
    super(problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; "));
  }
}

/** Client calls the API for one signed-in user. */
export class Client {
  constructor(
    private readonly baseURL: string,
    private readonly userID: string,
    private readonly token: () => Promise<string>,
  ) {}

  list(status: Status = "all"): Promise<Task[]> {
    return this.call<Task[]>("GET", `/tasks?status=${encodeURIComponent(status)}`);
  }

  create(task: NewTask): Promise<Task> {
    return this.call<Task>("POST", "/tasks", task);
  }

  get(id: Task["id"]): Promise<Task> {
    return this.call<Task>("GET", `/tasks/${id}`);
  }

  replace(id: Task["id"], update: TaskUpdate): Promise<Task> {
    return this.call<Task>("PUT", `/tasks/${id}`, update);
  }

  async remove(id: Task["id"]): Promise<void> {
    await this.call<null>("DELETE", `/tasks/${id}`);
  }

  toggle(id: Task["id"], body?: CompleteBody): Promise<Task> {
    return this.call<Task>("PATCH", `/tasks/${id}/complete`, body);
  }

  /** skip moves a repeating task on without completing its occurrence. */
  skip(id: Task["id"], body?: SkipBody): Promise<Task> {
    return this.call<Task>("POST", `/tasks/${id}/skip`, body);
  }

  /** occurrences lists a task's occurrences in [from, to). */
  occurrences(id: Task["id"], query: OccurrencesQuery): Promise<Occurrence[]> {
    return this.call<Occurrence[]>("GET", `/tasks/${id}/occurrences?${new URLSearchParams(query as Record<string, string>)}`);
  }

  /** history lists what a repeating task passed, the latest first. */
  history(id: Task["id"], limit = 100): Promise<PassedOccurrence[]> {
    return this.call<PassedOccurrence[]>("GET", `/tasks/${id}/occurrences/history?limit=${limit}`);
  }

  /** addWebhook registers a URL for reminders; keep the secret it answers. */
  addWebhook(body: WebhookBody): Promise<NewWebhook> {
    return this.call<NewWebhook>("POST", "/webhooks", body);
  }

  webhooks(): Promise<Webhook[]> {
    return this.call<Webhook[]>("GET", "/webhooks");
  }

  async removeWebhook(id: WebhookID): Promise<void> {
    await this.call<null>("DELETE", `/webhooks/${encodeURIComponent(id)}`);
  }

  /** subscribePush registers this browser (subscription.toJSON()) for reminders. */
  subscribePush(body: PushSubscriptionBody): Promise<PushSubscription> {
    return this.call<PushSubscription>("POST", "/push-subscriptions", body);
  }

  pushSubscriptions(): Promise<PushSubscription[]> {
    return this.call<PushSubscription[]>("GET", "/push-subscriptions");
  }

  async unsubscribePush(id: SubscriptionID): Promise<void> {
    await this.call<null>("DELETE", `/push-subscriptions/${encodeURIComponent(id)}`);
  }

  /** revisions lists what each write changed of a task, newest first. */
  revisions(id: Task["id"]): Promise<Revision[]> {
    return this.call<Revision[]>("GET", `/tasks/${id}/history`);
  }

  /** revert puts back what the revision of that version changed (409 MergeConflict when changed since). */
  revert(id: Task["id"], version: Revision["version"]): Promise<Task> {
    return this.call<Task>("POST", `/tasks/${id}/history/${version}/revert`);
  }

  /** listView is one level of a list (or of the inbox) in the user's order. */
  listView(list: TodoList["id"] | "inbox", parent: Task["id"] | "none" = "none"): Promise<Task[]> {
    const query: ListQuery = { list_id: String(list), parent_id: String(parent), sort: "position" };
    return this.call<Task[]>("GET", `/tasks?${new URLSearchParams(query as Record<string, string>)}`);
  }

  /** move is a drag and drop: the server makes the task's new position. */
  move(id: Task["id"], to: Move): Promise<Task> {
    return this.call<Task>("POST", `/tasks/${id}/move`, to);
  }

  /** moveMany moves a multi-selection together, in the order of ids. */
  moveMany(body: MoveMany): Promise<Task[]> {
    return this.call<Task[]>("POST", "/tasks/move", body);
  }

  /**
   * lists is the caller's sidebar: their own lists and those shared with them
   * (role, owner), in one order that is the caller's: position is the
   * caller's own place for each list (each member of a shared list has theirs).
   */
  lists(): Promise<TodoList[]> {
    return this.call<TodoList[]>("GET", "/lists");
  }

  createList(list: NewList): Promise<TodoList> {
    return this.call<TodoList>("POST", "/lists", list);
  }

  getList(id: TodoList["id"]): Promise<TodoList> {
    return this.call<TodoList>("GET", `/lists/${id}`);
  }

  patchList(id: TodoList["id"], patch: ListPatch): Promise<TodoList> {
    return this.call<TodoList>("PATCH", `/lists/${id}`, patch);
  }

  /**
   * moveList places a list in the caller's sidebar, after or before another
   * list there (their own or a shared one). On a shared list any member, a
   * viewer too, moves only their own place: the list's version and ETag stay,
   * and nobody else's order changes.
   */
  moveList(id: TodoList["id"], to: ListMove): Promise<TodoList> {
    return this.call<TodoList>("POST", `/lists/${id}/move`, to);
  }

  async removeList(id: TodoList["id"], permanent = false): Promise<void> {
    await this.call<null>("DELETE", `/lists/${id}${permanent ? "?permanent=true" : ""}`);
  }

  restoreList(id: TodoList["id"]): Promise<TodoList> {
    return this.call<TodoList>("POST", `/lists/${id}/restore`);
  }

  trashedLists(): Promise<TrashedList[]> {
    return this.call<TrashedList[]>("GET", "/trash/lists");
  }

  /** changes reads the feed after since; a 410 means: take a snapshot (no since). */
  changes(query: ChangesQuery = {}): Promise<ChangesPage> {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.call<ChangesPage>("GET", `/changes${q.size ? `?${q}` : ""}`);
  }

  /** commands sends an offline queue; send it again, unchanged, when the answer is lost. */
  commands(batch: CommandBatch): Promise<CommandsAnswer> {
    return this.call<CommandsAnswer>("POST", "/commands", batch);
  }

  /** flush sends queue in batches of 100 and returns every result by command id. */
  async flush(queue: Command[]): Promise<Record<string, CommandResult>> {
    const out: Record<string, CommandResult> = {};
    const ids: Partial<Record<string, number>> = {};
    for (let i = 0; i < queue.length; i += 100) {
      // A temp_id mapped in an earlier batch stands for its id in later ones.
      const batch = queue.slice(i, i + 100).map((c) => {
        const id = typeof c.entity_id === "string" ? ids[c.entity_id] : undefined;
        return id === undefined ? c : { ...c, entity_id: id };
      });
      const answer = await this.commands({ commands: batch });
      Object.assign(out, answer.results);
      Object.assign(ids, answer.temp_id_mapping);
    }
    return out;
  }

  /** sync applies every page after cursor, in order, and returns the next cursor. */
  async sync(cursor: string | undefined, apply: (c: Change) => void): Promise<string> {
    for (;;) {
      const page = await this.changes(cursor === undefined ? {} : { since: cursor });
      page.changes.forEach(apply);
      cursor = page.cursor;
      if (!page.has_more) {
        return cursor;
      }
    }
  }

  /** eventsTicket gets a single-use ticket for the event stream (60 s). */
  eventsTicket(): Promise<EventsTicket> {
    return this.call<EventsTicket>("POST", "/events/ticket");
  }

  /**
   * eventsURL is the URL an EventSource opens: a fresh ticket, and the seq
   * of the last event the client has (a new EventSource cannot send
   * Last-Event-ID), so that the stream first replays what was missed.
   */
  async eventsURL(lastEventID?: string): Promise<string> {
    const { ticket } = await this.eventsTicket();
    const query: EventsQuery = { ticket };
    if (lastEventID) {
      query.last_event_id = lastEventID;
    }
    const params = new URLSearchParams(query as Record<string, string>);
    return `${this.baseURL}/api/${encodeURIComponent(this.userID)}/events?${params}`;
  }

  /** members lists the people of a shared list, the owner first. */
  members(listID: TodoList["id"]): Promise<Member[]> {
    return this.call<Member[]>("GET", `/lists/${listID}/members`);
  }

  /** invite invites an email to a list with a role; the invitee accepts or declines. */
  invite(listID: TodoList["id"], invite: Invite): Promise<Invitation> {
    return this.call<Invitation>("POST", `/lists/${listID}/members`, invite);
  }

  /** setMemberRole changes a member's role; role "owner" hands the list over. */
  setMemberRole(listID: TodoList["id"], memberID: Member["user_id"], body: MemberRole): Promise<Member> {
    return this.call<Member>("PATCH", `/lists/${listID}/members/${encodeURIComponent(memberID)}`, body);
  }

  /** removeMember removes a member; removing yourself leaves the list. */
  async removeMember(listID: TodoList["id"], memberID: Member["user_id"]): Promise<void> {
    await this.call<null>("DELETE", `/lists/${listID}/members/${encodeURIComponent(memberID)}`);
  }

  /** invitations lists the invitations waiting for the user's email. */
  invitations(): Promise<Invitation[]> {
    return this.call<Invitation[]>("GET", "/invitations");
  }

  /** acceptInvitation joins the invitation's list with its role. */
  acceptInvitation(id: Invitation["id"]): Promise<Invitation> {
    return this.call<Invitation>("POST", `/invitations/${id}/accept`);
  }

  /** declineInvitation deletes the invitation. */
  async declineInvitation(id: Invitation["id"]): Promise<void> {
    await this.call<null>("POST", `/invitations/${id}/decline`);
  }

  /** createCalendarFeed makes a subscription URL for calendar apps (shown only now). */
  createCalendarFeed(feed?: NewCalendarFeed): Promise<CreatedCalendarFeed> {
    return this.call<CreatedCalendarFeed>("POST", "/calendar-feeds", feed);
  }

  /** listCalendarFeeds lists the user's feeds, oldest first, without their secrets. */
  listCalendarFeeds(): Promise<CalendarFeed[]> {
    return this.call<CalendarFeed[]>("GET", "/calendar-feeds");
  }

  /** revokeCalendarFeed deletes a feed: its URL answers 404 from then on. */
  async revokeCalendarFeed(id: CalendarFeed["id"]): Promise<void> {
    await this.call<null>("DELETE", `/calendar-feeds/${encodeURIComponent(id)}`);
  }

  /** exportFile downloads the user's tasks as a file (json, csv or ics). */
  async exportFile(query: ExportQuery = {}): Promise<Blob> {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const res = await fetch(`${this.baseURL}/api/${encodeURIComponent(this.userID)}/export?${q}`, {
      headers: { Authorization: `Bearer ${await this.token()}` },
    });
    if (!res.ok) {
      const err = (await res.json()) as ErrorBody;
      throw new APIError(res.status, [{ field: "", message: err.detail }]);
    }
    return res.blob();
  }

  /** importFile uploads a file as a multipart form; with dry_run it only previews. */
  async importFile(file: Blob, name: string, query: ImportQuery, mapping?: Record<string, string>): Promise<ImportResult | ImportPreview> {
    const form = new FormData();
    if (mapping) {
      form.append("mapping", JSON.stringify(mapping));
    }
    form.append("file", file, name);
    const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const res = await fetch(`${this.baseURL}/api/${encodeURIComponent(this.userID)}/imports?${q}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await this.token()}`, "Idempotency-Key": crypto.randomUUID() },
      body: form,
    });
    if (res.status === 422) {
      const err = (await res.json()) as ValidationErrorBody;
      throw new APIError(422, err.detail.map((d) => ({ field: d.loc.join("."), message: d.msg })));
    }
    if (!res.ok) {
      const err = (await res.json()) as ErrorBody;
      throw new APIError(res.status, [{ field: "", message: err.detail }]);
    }
    return (await res.json()) as ImportResult;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.token()}` };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`${this.baseURL}/api/${encodeURIComponent(this.userID)}${path}`, init);
    if (res.status === 204) {
      return null as T;
    }
    if (res.status === 422) {
      const err = (await res.json()) as ValidationErrorBody;
      throw new APIError(
        422,
        err.detail.map((d) => ({ field: d.loc.filter((l) => l !== "body").join("."), message: d.msg })),
      );
    }
    if (!res.ok) {
      const err = (await res.json()) as ErrorBody;
      throw new APIError(res.status, [{ field: "", message: err.detail }]);
    }
    return (await res.json()) as T;
  }
}

/** describe renders a task the way a list item would. */
export function describe(t: Task): string {
  const done = t.completed ? "[x]" : "[ ]";
  const when = new Date(t.created_at).toISOString();
  return `${done} #${t.id} ${t.title}${t.description === null ? "" : ` - ${t.description}`} (${when}, ${t.user_id})`;
}

// The shapes CONTRACT.md fixes, checked at compile time. Each line fails to
// compile when the generated type differs.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

expectType<Equal<Task["id"], number>>();
expectType<Equal<Task["user_id"], string>>();
expectType<Equal<Task["title"], string>>();
expectType<Equal<Task["description"], string | null>>();
expectType<Equal<Task["completed"], boolean>>();
expectType<Equal<Task["created_at"], string>>();
expectType<Equal<Task["updated_at"], string>>();
expectType<Equal<Task["priority"], "low" | "medium" | "high">>();
expectType<Equal<Task["due_date"], string | null>>();
expectType<Equal<Task["tags"], string[]>>();
expectType<Equal<Task["completed_at"], string | null>>();
expectType<Equal<Task["version"], number>>();
expectType<Equal<Task["list_id"], number | null>>();
expectType<Equal<Task["parent_id"], number | null>>();
expectType<Equal<Task["position"], string>>();
expectType<Equal<Task["due_tz"], string | null>>();
expectType<Equal<Task["due_floating"], boolean>>();
expectType<Equal<Recurrence["rule"], string>>();
expectType<Equal<Recurrence["from"], "due" | "completion">>();
expectType<Equal<Recurrence["description"], string>>();
expectType<Equal<Task["reminders"][number]["at"], string | null>>();
expectType<Equal<Task["reminders"][number]["before"], string | null>>();
expectType<Equal<Task["reminders"][number]["fires_at"], string | null>>();
expectType<Equal<Occurrence["due_date"], string>>();
expectType<Equal<PassedOccurrence["kind"], "completed" | "skipped">>();
expectType<Equal<PassedOccurrence["at"], string>>();
expectType<Equal<Occurrence["local"], string>>();
expectType<Equal<OccurrencesQuery["from"], string>>();
expectType<Equal<ExportQuery["format"], "json" | "csv" | "ics" | undefined>>();
expectType<Equal<ImportQuery["format"], "json" | "todoist-csv" | "ics" | "csv">>();
expectType<Equal<ImportResult["created"]["tasks"], number>>();
expectType<Equal<ImportResult["tasks"][number]["id"], number | null>>();
expectType<Equal<ImportResult["problems"][number]["line"], number>>();
expectType<Equal<ImportResult["problems"][number]["severity"], "error" | "warning">>();
expectType<Equal<ImportPreview["dry_run"], boolean>>();
expectType<Equal<TodoList["id"], number>>();
expectType<Equal<TodoList["name"], string>>();
expectType<Equal<TodoList["color"], string | null>>();
expectType<Equal<TodoList["open_count"], number>>();
expectType<Equal<TodoList["completed_count"], number>>();
expectType<Equal<TodoList["position"], string>>();
expectType<Equal<TrashedList["deleted_at"], string>>();
expectType<Equal<TodoList["role"], "owner" | "admin" | "editor" | "completer" | "viewer">>();
expectType<Equal<TodoList["owner"], string>>();
expectType<Equal<Member["email"], string | null>>();
expectType<Equal<Task["created_by"], string>>();
expectType<Equal<Task["assignee_id"], string | null>>();
expectType<Equal<Invitation["list_name"], string>>();
expectType<Equal<JSONBody<AcceptPath["post"]["responses"][200]>, Invitation>>();
expectType<Equal<NonNullable<Move["list_id"]>, number>>();
expectType<Equal<MoveMany["ids"], number[]>>();
expectType<Equal<Status, "all" | "pending" | "completed">>();
expectType<Equal<ValidationErrorBody["detail"][number]["msg"], string>>();
expectType<Equal<ValidationErrorBody["detail"][number]["type"], string>>();
expectType<Equal<ErrorBody["detail"], string>>();
expectType<Equal<CreatedCalendarFeed["url"], string>>();
expectType<Equal<CreatedCalendarFeed["id"], string>>();
expectType<Equal<CalendarFeed["created_at"], string>>();
expectType<Equal<NewCalendarFeed["name"], string>>();
expectType<Equal<EventsTicket["ticket"], string>>();
expectType<Equal<EventsTicket["expires_at"], string>>();
expectType<Equal<NonNullable<EventsQuery["ticket"]>, string>>();
expectType<Equal<NonNullable<EventsQuery["last_event_id"]>, string>>();

// The example task of CONTRACT.md, with the fields the richer task adds, is
// a Task, and the documented bodies take what the frontend sends.
export const example: Task = {
  id: 1,
  user_id: "u_123",
  title: "Buy milk",
  description: null,
  completed: false,
  created_at: "2026-01-05T10:00:00Z",
  updated_at: "2026-01-05T10:00:00Z",
  priority: "medium",
  due_date: null,
  tags: [],
  completed_at: null,
  version: 1,
  list_id: null,
  parent_id: null,
  position: "z0000000000000000001",
  due_tz: null,
  due_floating: false,
  recurrence: null,
  reminders: [],
  created_by: "u_123",
  assignee_id: null,
};
export const repeating: Task = {
  ...example,
  due_date: "2026-10-16T15:00:00Z",
  due_tz: "Europe/Paris",
  recurrence: { rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", from: "due", description: "every 2 weeks on Friday" },
  reminders: [{ at: null, before: "PT15M", fires_at: "2026-10-16T14:45:00Z" }],
};
export const newTasks: NewTask[] = [
  { title: "Buy milk" },
  { title: "Buy milk", description: null },
  { title: "a", description: "b" },
  { title: "a", priority: "HIGH", due_date: "2026-03-01", tags: ["home"] },
  {
    title: "review",
    due_date: "2026-10-16T17:00:00",
    due_tz: "Europe/Paris",
    recurrence: { rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR" },
    reminders: [{ before: "PT15M" }, { at: "2026-10-16T14:00:00Z" }],
  },
  { title: "stretch", due_date: "2026-03-01T09:00:00", due_floating: true, recurrence: { rule: "FREQ=DAILY;INTERVAL=3", from: "completion" } },
];
export const updates: TaskUpdate[] = [
  { title: "Buy milk" },
  { title: "Buy milk", description: null, completed: true },
  { title: "Buy milk", priority: "low", due_date: null, tags: [] },
  { title: "review", due_tz: null, recurrence: null, reminders: null },
];
export const completeBody: CompleteBody = { completed: true };
export const completeOccurrence: CompleteBody = { occurrence: "2026-10-16T15:00:00Z" };
export const skipBodies: SkipBody[] = [{}, { occurrence: null }, { occurrence: "2026-10-16T15:00:00Z" }];
export const window: OccurrencesQuery = { from: "2026-10-01", to: "2027-01-01", tz: "Europe/Paris" };
// What a frontend sends to build a sidebar and drag tasks: null is the
// inbox or the top level, an absent member keeps what the task has.
export const newLists: NewList[] = [{ name: "Groceries" }, { name: "Work", color: "#ff8800" }, { name: "x", color: null }];
export const listPatches: ListPatch[] = [{ name: "Shopping" }, { color: null }, {}];
export const moves: Move[] = [{}, { after_id: 7 }, { before_id: 7 }, { list_id: null }, { list_id: 3, parent_id: null }, { parent_id: 12 }];
export const moveMany: MoveMany = { ids: [4, 9], list_id: 3, after_id: 7 };
export const newSubtask: NewTask = { title: "step 1", parent_id: 12 };
export const ticket: EventsTicket = { ticket: "Yb2vJ1d6yQ9aH8s4Z0kq3mO7tLx2cV5nB1pR6wE9uT0", expires_at: "2026-01-05T10:01:00Z" };
export const changeEvent: ChangeEvent = JSON.parse('{"seq":42,"entity":"task","op":"upsert","id":7}');
export const validationError: ValidationErrorBody = {
  detail: [{ loc: ["body", "title"], msg: "String should have at least 1 character", type: "string_too_short" }],
};
