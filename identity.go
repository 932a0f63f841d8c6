package audit

import "log/slog"

// Identity is the actor of an audited action: a person, a service, a
// command-line run or a scheduled job. Bind it to a context with
// [WithIdentity]; a [Handler] writes it as a group of its non-empty fields.
//
// The zero Identity is valid and writes nothing.
type Identity struct {
	ID    string   `json:"id,omitempty"`    // stable identifier (database id, subject claim)
	Name  string   `json:"name,omitempty"`  // login or display name
	Email string   `json:"email,omitempty"` // e-mail address
	Kind  string   `json:"kind,omitempty"`  // actor kind: "user", "web", "service", "cli", "cron", ...
	Roles []string `json:"roles,omitempty"` // roles or groups the actor acted with
}

// LogValue implements [slog.LogValuer]. It returns a group of the non-empty
// fields under the keys "id", "name", "email", "kind" and "roles", so an
// Identity logged directly reads the same as one bound with [WithIdentity].
func (id Identity) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 5)
	if id.ID != "" {
		attrs = append(attrs, slog.String("id", id.ID))
	}
	if id.Name != "" {
		attrs = append(attrs, slog.String("name", id.Name))
	}
	if id.Email != "" {
		attrs = append(attrs, slog.String("email", id.Email))
	}
	if id.Kind != "" {
		attrs = append(attrs, slog.String("kind", id.Kind))
	}
	if len(id.Roles) > 0 {
		attrs = append(attrs, slog.Any("roles", id.Roles))
	}
	return slog.GroupValue(attrs...)
}

// IsZero reports whether id has no field set.
func (id Identity) IsZero() bool {
	return id.ID == "" && id.Name == "" && id.Email == "" && id.Kind == "" && len(id.Roles) == 0
}
