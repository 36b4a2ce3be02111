//! sync-server's integration tests, one binary (one link instead of one per file): the real
//! router over real sockets and real SQLite, as peers and attackers meet it. A test whose
//! subject is the whole process (the global log subscriber, the process's memory) runs in a
//! process of its own through [`common::own_process`].

mod common;

mod access;
mod awards;
mod backups;
mod board;
mod connections;
mod crafted_files;
mod deploy;
mod desk;
mod hostile;
mod https;
mod kill_durability;
mod logs;
mod many_writers;
mod monitoring;
mod office;
mod photos;
mod processes;
mod proxy;
mod samod_interop;
mod schema_fixtures;
mod static_files;
mod storage_failure;
mod sync_socket;
