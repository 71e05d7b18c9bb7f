package usergroupsemu

import "github.com/groupdir/gateway/upstream/demodata"

// maxSeedMembers bounds the members of a seeded group.
const maxSeedMembers = 3

// seed returns the user groups of the demo data set: group i has id
// demodata.UserGroupID(i), name demodata.UserGroupName(i), ExternalId
// size.UserGroupExternalID(i) (none when size has no Genesys groups) and
// i%4 members (capped by size.Users), users (5i + j) % size.Users.
func seed(size demodata.Size, companyID int64) []UserGroup {
	groups := make([]UserGroup, size.UserGroups)
	for i := range groups {
		groups[i] = UserGroup{
			ID:        demodata.UserGroupID(i),
			Name:      demodata.UserGroupName(i),
			UserIDs:   seedMembers(size, i),
			CompanyID: companyID,
		}
		if size.Groups > 0 {
			groups[i].ExternalID = size.UserGroupExternalID(i)
		}
	}
	return groups
}

// seedMembers returns the member ids of seeded group i.
func seedMembers(size demodata.Size, i int) []string {
	n := min(i%(maxSeedMembers+1), size.Users)
	ids := make([]string, n)
	for j := range n {
		ids[j] = demodata.UserID((5*i + j) % size.Users)
	}
	return ids
}
