//! Integration tests of the Lambda host: event fixtures through `lambda_http` into the
//! router (`events`), and the real `bootstrap` binary under a Runtime API emulator
//! (`emulator`), and the cold-start secret lookup (`secrets`).

mod common;
mod emulator;
mod events;
mod secrets;
