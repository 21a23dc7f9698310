package task

import (
	"context"

	"github.com/todo-backend/todo/domain/auth"
)

type actorKey struct{}

// WithActor says that the writes made with ctx are user's: for a store
// called with another user than the one whose request writes, as a
// member's change to a shared list's task is made in its owner's rows.
// The history (Revision.By) names the actor.
func WithActor(ctx context.Context, user auth.UserID) context.Context {
	return context.WithValue(ctx, actorKey{}, user)
}

// Actor is the user whose request writes with ctx: the one WithActor
// named, or else def, the user the store was called with.
func Actor(ctx context.Context, def auth.UserID) auth.UserID {
	if u, ok := ctx.Value(actorKey{}).(auth.UserID); ok && u != "" {
		return u
	}
	return def
}
