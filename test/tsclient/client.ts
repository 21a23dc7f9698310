// client.ts is the todo API as the Next.js frontend would use it, typed only
// by the types that openapi-typescript generates from the service's OpenAPI
// document (generated/schema.d.ts). tsclient_test.go generates them and runs
// tsc: when the document drifts from what the frontend relies on, this file
// stops compiling. Nothing here is written by hand about the shapes.
import type { paths } from "./generated/schema";

type TasksPath = paths["/api/{user_id}/tasks"];
type TaskPath = paths["/api/{user_id}/tasks/{id}"];
type CompletePath = paths["/api/{user_id}/tasks/{id}/complete"];

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
expectType<Equal<Status, "all" | "pending" | "completed">>();
expectType<Equal<ValidationErrorBody["detail"][number]["msg"], string>>();
expectType<Equal<ValidationErrorBody["detail"][number]["type"], string>>();
expectType<Equal<ErrorBody["detail"], string>>();

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
};
export const newTasks: NewTask[] = [
  { title: "Buy milk" },
  { title: "Buy milk", description: null },
  { title: "a", description: "b" },
  { title: "a", priority: "HIGH", due_date: "2026-03-01", tags: ["home"] },
];
export const updates: TaskUpdate[] = [
  { title: "Buy milk" },
  { title: "Buy milk", description: null, completed: true },
  { title: "Buy milk", priority: "low", due_date: null, tags: [] },
];
export const completeBody: CompleteBody = { completed: true };
export const validationError: ValidationErrorBody = {
  detail: [{ loc: ["body", "title"], msg: "String should have at least 1 character", type: "string_too_short" }],
};
