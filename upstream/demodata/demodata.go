// Package demodata defines the deterministic data set both emulators are
// seeded with, so that they agree on ids: the Genesys emulator serves the
// groups and users, and the Usergroup emulator serves user groups whose
// ExternalId names those groups (or, for some, nothing).
//
// Ids are UUIDs derived from an index, so tests and documentation can name
// them (GroupID(0) is always the same group); user-group ids are spelled as
// the forms platform spells them, without hyphens.
package demodata

import "fmt"

// Size fixes how large a data set is.
type Size struct {
	// Groups is the number of Genesys groups.
	Groups int
	// Users is the number of Genesys users.
	Users int
	// MembersPerGroup is how many users each group has (users are assigned
	// round-robin starting at the group's index).
	MembersPerGroup int
	// UserGroups is the number of Usergroup API user groups.
	UserGroups int
}

// Demo is the size demo mode and most tests use.
var Demo = Size{Groups: 40, Users: 200, MembersPerGroup: 12, UserGroups: 30}

// Bench is a larger set for benchmarks: big member pages and long user
// group listings.
var Bench = Size{Groups: 500, Users: 5000, MembersPerGroup: 200, UserGroups: 1000}

// CompanyID is the Usergroup API company the demo data belongs to.
const CompanyID int64 = 61234

// GroupID returns the id of Genesys group i.
func GroupID(i int) string { return fmt.Sprintf("6a0f0000-0000-4000-8000-%012x", i) }

// UserID returns the id of Genesys user i.
func UserID(i int) string { return fmt.Sprintf("7b1e0000-0000-4000-8000-%012x", i) }

// UserGroupID returns the id of user group i, spelled as the forms platform
// spells GUIDs: 32 hex digits without hyphens ("8c2d0000000040008000" and i
// as 12 hex digits).
func UserGroupID(i int) string { return fmt.Sprintf("8c2d0000000040008000%012x", i) }

// JabberID returns the chat address of Genesys user i.
func JabberID(i int) string { return fmt.Sprintf("%012x@conference.demo.orgspan.com", i) }

// GroupJabberID returns the chat address of Genesys group i.
func GroupJabberID(i int) string { return fmt.Sprintf("group-%04d@conference.demo.orgspan.com", i) }

// MemberIndexes returns the indexes of the users that belong to group g.
func (s Size) MemberIndexes(g int) []int {
	n := min(s.MembersPerGroup, s.Users)
	out := make([]int, n)
	for k := range n {
		out[k] = (g*7 + k) % s.Users
	}
	return out
}

// UserGroupExternalID returns the ExternalId of user group i: every 10th
// (i%10 == 9) names a Genesys group that does not exist, every 10th
// (i%10 == 4) has none (""), and the others name group i % Groups.
func (s Size) UserGroupExternalID(i int) string {
	switch i % 10 {
	case 9:
		return fmt.Sprintf("deadbeef-0000-4000-8000-%012x", i)
	case 4:
		return ""
	}
	return GroupID(i % s.Groups)
}

var groupNames = []string{
	"Support", "Sales", "Billing", "Onboarding", "Escalations", "Field Service", "Retention",
	"Partner Desk", "Quality", "Workforce", "Back Office", "Social Care",
}

// GroupName returns the name of group i ("Support 01", "Sales 02", ...).
func GroupName(i int) string {
	return fmt.Sprintf("%s %02d", groupNames[i%len(groupNames)], i+1)
}

var firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Linus", "Margaret", "Dennis"}
var lastNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Perlman", "Torvalds", "Hamilton", "Ritchie"}

// UserName returns the display name of user i.
func UserName(i int) string {
	return fmt.Sprintf("%s %s", firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]) +
		fmt.Sprintf(" %d", i)
}

// UserEmail returns the e-mail address of user i.
func UserEmail(i int) string { return fmt.Sprintf("user%04d@demo.example.com", i) }

// UserGroupName returns the name of user group i.
func UserGroupName(i int) string { return fmt.Sprintf("Forms team %03d", i+1) }

// DynamicGroup is the index of the group that has dynamic settings.
const DynamicGroup = 3
