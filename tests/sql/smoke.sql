-- The extension loads and answers.
SELECT 'version', buzzlite_version() IS NOT NULL;
