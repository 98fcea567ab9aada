-- A staff member's work phone (工作电话), which residents may call: the
-- building's public page names the grid's 网格员 and the community's 网格长
-- with it (issue 18 #7). Set by whoever runs the account; none by default.
ALTER TABLE users ADD COLUMN work_phone TEXT COLLATE "C";
