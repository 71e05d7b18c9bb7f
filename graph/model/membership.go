package model

// MembershipChangePayload is the result of a Genesys group membership
// change. The group and its version after the change are resolved on demand
// from GroupID (one batched read, after the writes), so a caller that asks
// for neither pays nothing for them.
type MembershipChangePayload struct {
	GroupID string
	Status  MembershipChangeStatus
	Results []MemberChangeResult
}
