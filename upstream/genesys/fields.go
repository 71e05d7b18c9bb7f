package genesys

import (
	"context"
)

// Selective decoding: a caller that will read only some members of the
// users and groups of an answer says which (WithFields), and the decoder
// skips the others, which then keep their zero value. Skipping a member
// costs a scan, not the allocations of its strings, slices and nested
// objects: on a page of 100 users of which a query shows a few fields, or
// 100 groups whose owners nobody asked for, most of the decoding.

// Fields are the members of users and of groups, by JSON name, that the
// caller reads. The zero Fields reads every member.
type Fields struct {
	users, groups uint64 // bit i: userMembers[i] / groupMembers[i]; 0: all
}

// userMembers and groupMembers are the members of User and Group, in the
// order of their bits.
var (
	userMembers = []string{"id", "name", "division", "chat", "department", "email", "primaryContactInfo",
		"addresses", "state", "title", "username", "manager", "images", "version", "certifications", "biography",
		"employerInfo", "preferredName", "routingStatus", "presence", "integrationPresence", "conversationSummary",
		"outOfOffice", "geolocation", "station", "authorization", "profileSkills", "locations", "groups", "team",
		"workPlanBidRanks", "skills", "languages", "acdAutoAnswer", "languagePreference", "lastTokenIssued",
		"dateLastLogin", "dateWelcomeSent", "selfUri"}
	groupMembers = []string{"id", "name", "description", "dateModified", "memberCount", "state", "version", "type",
		"images", "addresses", "rulesVisible", "visibility", "rolesEnabled", "includeOwners", "callsEnabled",
		"owners", "selfUri"}
	userBits  = bitsOf(userMembers)
	groupBits = bitsOf(groupMembers)
)

func bitsOf(names []string) map[string]uint64 {
	m := make(map[string]uint64, len(names))
	for i, n := range names {
		m[n] = 1 << i
	}
	return m
}

// NewFields returns the Fields that read the named members of users and of
// groups (JSON names; unknown names are ignored) and always their ids. A
// nil list reads every member of that type.
func NewFields(users, groups []string) Fields {
	return Fields{users: mask(users, userBits), groups: mask(groups, groupBits)}
}

func mask(names []string, bits map[string]uint64) uint64 {
	if names == nil {
		return 0
	}
	m := bits["id"]
	for _, n := range names {
		m |= bits[n]
	}
	return m
}

// skipUser reports whether the user member name is not to be decoded.
func (f Fields) skipUser(name []byte) bool { return skip(f.users, userBits, name) }

// skipGroup reports whether the group member name is not to be decoded.
func (f Fields) skipGroup(name []byte) bool { return skip(f.groups, groupBits, name) }

func skip(m uint64, bits map[string]uint64, name []byte) bool {
	if m == 0 {
		return false
	}
	bit, known := bits[string(name)]
	return known && m&bit == 0
}

type fieldsKey struct{}

// WithFields returns a copy of ctx whose calls decode only f's members of
// the users and groups they answer. Only readers of those members should
// use it: a member left out reads as its zero value.
func WithFields(ctx context.Context, f Fields) context.Context {
	return context.WithValue(ctx, fieldsKey{}, f)
}

// FieldsFrom returns the Fields of ctx (the zero Fields: everything).
func FieldsFrom(ctx context.Context) Fields {
	f, _ := ctx.Value(fieldsKey{}).(Fields)
	return f
}
