// A paginated list of groups (groupsConnection with @connection), each
// group rendered by GroupCard's fragment.
import { graphql } from "relay-runtime";

export const groupListQuery = graphql`
  query GroupListQuery($count: Int!, $cursor: String) {
    ...GroupList_query @arguments(count: $count, cursor: $cursor)
  }
`;

export const groupListFragment = graphql`
  fragment GroupList_query on Query
  @argumentDefinitions(count: { type: "Int!" }, cursor: { type: "String" })
  @refetchable(queryName: "GroupListPaginationQuery") {
    groupsConnection(first: $count, after: $cursor) @connection(key: "GroupList_groupsConnection") {
      totalCount
      edges {
        node {
          id
          ...GroupCard_group
        }
      }
    }
  }
`;
