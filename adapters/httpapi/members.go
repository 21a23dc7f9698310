package httpapi

import (
	"context"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
)

// Shared lists' members and invitations (issue 19). Every decision is the
// application's (list.Role.Allows, CanSetRole); a caller whose role does
// not allow a request gets the 404 of a list that does not exist, with the
// same body, whichever rule refused.

const (
	membersPath       = listPath + "/members"
	memberPath        = membersPath + "/{member_user_id}"
	invitationsPath   = "/api/{user_id}/invitations"
	invitationPath    = invitationsPath + "/{invitation_id}"
	msgMemberNotFound = "Member not found"
	msgInvitationGone = "Invitation not found"
	msgAlreadyMember  = "That email already belongs to the list's owner or one of its members"
)

// MemberJSON is one person of a shared list.
type MemberJSON struct {
	_         struct{}  `json:"-" additionalProperties:"false"`
	UserID    string    `json:"user_id" doc:"The member's user id." example:"u_456"`
	Role      string    `json:"role" enum:"owner,admin,editor,completer,viewer" doc:"owner (one per list), admin (manages members other than admins, and the list's name and color), editor (changes tasks), completer (completes and reopens tasks), viewer (reads)." example:"editor"`
	Email     *string   `json:"email" doc:"The member's email as their last token said; null when unknown." example:"bob@example.com"`
	Name      *string   `json:"name" doc:"The member's name as their last token said; null when unknown." example:"Bob"`
	InvitedBy *string   `json:"invited_by" doc:"Who invited the member; null for the owner." example:"u_123"`
	Since     time.Time `json:"since" doc:"RFC 3339, UTC: when the member joined (the owner: when the list was created)."`
}

func memberOut(m list.Member) MemberJSON {
	return MemberJSON{
		UserID: string(m.UserID), Role: string(m.Role), Email: nonEmptyPtr(m.Email), Name: nonEmptyPtr(m.Name),
		InvitedBy: nonEmptyPtr(string(m.InvitedBy)), Since: m.Since,
	}
}

func nonEmptyPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InvitationJSON is an invitation to a shared list.
type InvitationJSON struct {
	_         struct{}  `json:"-" additionalProperties:"false"`
	ID        int64     `json:"id" minimum:"1" doc:"Assigned by the server." example:"7"`
	ListID    int64     `json:"list_id" minimum:"1" example:"3"`
	ListName  string    `json:"list_name" example:"Groceries"`
	Email     string    `json:"email" doc:"The invitee's email, in lower case." example:"bob@example.com"`
	Role      string    `json:"role" enum:"admin,editor,completer,viewer" example:"editor"`
	InvitedBy string    `json:"invited_by" doc:"The user id of who invited." example:"u_123"`
	CreatedAt time.Time `json:"created_at"`
}

func invitationOut(i list.Invitation) InvitationJSON {
	return InvitationJSON{
		ID: int64(i.ID), ListID: int64(i.ListID), ListName: i.ListName, Email: i.Email, Role: string(i.Role),
		InvitedBy: string(i.InvitedBy), CreatedAt: i.CreatedAt,
	}
}

type membersInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
}

type inviteBody struct {
	Email string `json:"email" maxLength:"320" doc:"The invitee's email; compared in lower case with the emails of signed-in users." example:"bob@example.com"`
	Role  string `json:"role" doc:"admin, editor, completer or viewer. Only the owner invites an admin." example:"editor"`
}

type inviteInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	Body inviteBody
}

type memberInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	MemberUserID string `path:"member_user_id" minLength:"1" maxLength:"255" doc:"The member's user id." example:"u_456"`
}

type setRoleBody struct {
	Role string `json:"role" doc:"owner (hands the list over: only the owner, and the old owner becomes an admin), admin, editor, completer or viewer." example:"viewer"`
}

type setRoleInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	ListIDParam
	MemberUserID string `path:"member_user_id" minLength:"1" maxLength:"255" doc:"The member's user id." example:"u_456"`
	Body         setRoleBody
}

type invitationsInput struct {
	UserID string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
}

type invitationInput struct {
	UserID       string `path:"user_id" doc:"Must be the token's user id." example:"u_123"`
	InvitationID int64  `path:"invitation_id" minimum:"1" doc:"The invitation's id." example:"7"`
}

type membersOutput struct {
	Body []MemberJSON `nullable:"false"`
}

type memberOutput struct {
	Body MemberJSON
}

type invitationOutput struct {
	Body InvitationJSON
}

type invitationsOutput struct {
	Body []InvitationJSON `nullable:"false"`
}

func (h *handlers) listMembers(ctx context.Context, in *membersInput) (*membersOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	ms, err := h.svc.ListMembers(ctx, a, list.ID(in.ListID))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	out := &membersOutput{Body: make([]MemberJSON, len(ms))}
	for i, m := range ms {
		out.Body[i] = memberOut(m)
	}
	return out, nil
}

func (h *handlers) inviteMember(ctx context.Context, in *inviteInput) (*invitationOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	inv, err := h.svc.InviteMember(ctx, a, list.ID(in.ListID), in.Body.Email, in.Body.Role)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &invitationOutput{Body: invitationOut(inv)}, nil
}

func (h *handlers) setMemberRole(ctx context.Context, in *setRoleInput) (*memberOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	m, err := h.svc.SetMemberRole(ctx, a, list.ID(in.ListID), auth.UserID(in.MemberUserID), in.Body.Role)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "body")
	}
	return &memberOutput{Body: memberOut(m)}, nil
}

func (h *handlers) removeMember(ctx context.Context, in *memberInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RemoveMember(ctx, a, list.ID(in.ListID), auth.UserID(in.MemberUserID)); err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	return nil, nil
}

func (h *handlers) listInvitations(ctx context.Context, in *invitationsInput) (*invitationsOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	is, err := h.svc.ListInvitations(ctx, a)
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	out := &invitationsOutput{Body: make([]InvitationJSON, len(is))}
	for i, inv := range is {
		out.Body[i] = invitationOut(inv)
	}
	return out, nil
}

func (h *handlers) acceptInvitation(ctx context.Context, in *invitationInput) (*invitationOutput, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	inv, err := h.svc.AcceptInvitation(ctx, a, list.InvitationID(in.InvitationID))
	if err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	return &invitationOutput{Body: invitationOut(inv)}, nil
}

func (h *handlers) declineInvitation(ctx context.Context, in *invitationInput) (*struct{}, error) {
	a, err := h.actor(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DeclineInvitation(ctx, a, list.InvitationID(in.InvitationID)); err != nil {
		return nil, h.errs.toResponse(ctx, err, "path")
	}
	return nil, nil
}
