// GraphiQL on /graphql/: queries go to the same address with the session's cookie and CSRF token.
(function () {
  const root = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({
    url: root.dataset.endpoint,
    headers: { "X-CSRFToken": root.dataset.csrfToken },
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: "# Members of the organisation, 10 at a time\n{\n  members(first: 10) {\n    edges { node { id email role } }\n    pageInfo { hasNextPage endCursor }\n  }\n}\n",
    })
  );
})();
