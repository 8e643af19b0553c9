# promoctl: a static binary on a distroless base, running as a non-root user.
#   docker build -t promoctl .
#   docker run --rm -v "$PWD/examples/acme:/config:ro" -p 8787:8787 promoctl \
#     serve --repo /config --addr 0.0.0.0:8787 --insecure
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/promoctl ./cmd/promoctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/promoctl /usr/local/bin/promoctl
USER nonroot:nonroot
EXPOSE 8787
ENTRYPOINT ["/usr/local/bin/promoctl"]
CMD ["serve", "--repo", "/config", "--addr", "127.0.0.1:8787"]
