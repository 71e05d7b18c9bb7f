package ide

// DefaultTabs returns the tabs a first visit opens: named queries (the name
// titles the tab) that work on the demo data set, the first of which
// explains the IDE.
func DefaultTabs() []Tab {
	return []Tab{
		{Query: `# Welcome to the directory gateway.
#
# Run: the ▶ button or Ctrl/Cmd+Enter.
# Docs: the explorer on the left.
# Headers: the pane below takes a JSON
# object sent with each request, e.g.
#   {"Authorization": "Bearer <token>"}
# and the browser does not store it.
query Groups {
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
		{Query: `# Forms user groups with their linked
# Genesys group: two upstream calls for
# the page (see extensions.cost).
query UserGroups {
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
