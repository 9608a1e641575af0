// Command consumer shows a module that generates its own client with
// apigen: the todo package is regenerated from todo/todo.yaml by
// go generate ./..., which runs the generator as a Go tool of this module.
//
// Run it against a to-do server:
//
//	go run . -url http://localhost:8080 -token secret
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"example.com/consumer/todo"

	"github.com/allsource-go/allsource/runtime"
)

func main() {
	baseURL := flag.String("url", "http://localhost:8080", "base URL of the to-do API")
	token := flag.String("token", os.Getenv("TODO_TOKEN"), "bearer token")
	flag.Parse()
	if err := run(context.Background(), *baseURL, *token); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, baseURL, token string) error {
	c, err := todo.NewClient(baseURL, todo.WithBearerAuth(token), runtime.WithTimeout(10*time.Second))
	if err != nil {
		return err
	}
	created, err := c.CreateTodo(ctx, todo.NewTodo{Title: "write the report", Priority: runtime.Some(todo.PriorityHigh)})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if err := c.CompleteTodo(ctx, created.ID); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	items, err := c.ListTodos(ctx, todo.ListTodosParams{Done: runtime.Some(true)})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, it := range items {
		fmt.Printf("%d %s done=%v\n", it.ID, it.Title, it.Done)
	}
	return nil
}
