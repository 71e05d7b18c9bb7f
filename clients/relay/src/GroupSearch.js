// A search, paginated with searchGroupsConnection.
import { graphql } from "relay-runtime";

export const groupSearchQuery = graphql`
  query GroupSearchQuery($query: [GroupSearchCriterionInput!], $count: Int!, $cursor: String) {
    ...GroupSearch_query @arguments(query: $query, count: $count, cursor: $cursor)
  }
`;

export const groupSearchFragment = graphql`
  fragment GroupSearch_query on Query
  @argumentDefinitions(
    query: { type: "[GroupSearchCriterionInput!]" }
    count: { type: "Int!" }
    cursor: { type: "String" }
  )
  @refetchable(queryName: "GroupSearchPaginationQuery") {
    searchGroupsConnection(query: $query, first: $count, after: $cursor)
      @connection(key: "GroupSearch_searchGroupsConnection", filters: ["query"]) {
      totalCount
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;
