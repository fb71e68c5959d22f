-- Task records: work that does not run through the queue (an import) is still a task. It is written
-- as a finished job row with its own description, a launcher that is not an identity (the command
-- that ran it), and a report: the messages, returns and attributes its TaskStatus shows.
alter table job add column description text;
alter table job add column launcher_label text;
alter table job add column report text;
