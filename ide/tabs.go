package ide

// DefaultTabs returns the tabs a first visit opens: queries that work on
// the demo data set, the first of which explains the IDE.
func DefaultTabs() []Tab {
	return []Tab{
		{Query: `# Welcome to the directory gateway.
#
# Run this query with the ▶ button (or Ctrl/Cmd + Enter). The Documentation
# Explorer on the left describes every type and field. The Headers pane below
# takes a JSON object that is sent with each request of this tab, e.g.
#   {"Authorization": "Bearer <token>"}
# and is never stored by the browser.
{
  groups(pageSize: 5) {
    entities {
      id
      name
      memberCount
    }
    total
  }
}
`},
		{Query: `# User groups of the forms platform with their linked Genesys group:
# two upstream calls for the whole page (see extensions.cost).
{
  userGroups(pageSize: 10) {
    entities {
      name
      externalId
      group {
        name
        memberCount
      }
    }
    hasNextPage
  }
}
`},
		{Query: `# Teams from both directories at once.
query Teams($name: String) {
  teams(nameContains: $name) {
    __typename
    name
    memberCount
    source
  }
}
`, Variables: `{"name": "support"}`},
	}
}
