# The layering of src/: each folder is a static library (mmmove_FOLDER) that may use only the folders
# listed for it here and, through them, everything below those. Dependencies point down only, so a
# folder never reaches, by an include or by a symbol, a folder above it:
#
#   core → db → catalog → files, config, transform → check → pipeline → verify → copy, sync, merge
#        → sample (beside them) → job → cli
#
#   core       errors, safe files, printing, workers: no Mattermost knowledge
#   db         connections, readers and writers of both engines
#   catalog    introspection, schema versions, the schema model and the references model
#   files      the data directory (files sync); merge and run JOB.yaml copy files too
#   config     config.json merge
#   transform  the row stage: engine conversion, ID remap, anonymise
#   check      what every command checks first; its report is what the planner plans from
#   pipeline   what copy, merge, sync and verify share: planner, snapshot, chunk runner, checkpoint…
#   verify     row-by-row comparison; copy --verify, sync and merge call it
#   copy, sync, merge, sample   the commands' own code
#   job        `mmmove run JOB.yaml`
#   cli        one file per subcommand
#
# Both CMakeLists.txt (the libraries' link lines) and cmake/check_layers.cmake (the include check)
# read this file: it is the one place the rule is written. A new folder needs a line here.
set(MMMOVE_LAYERS core db catalog files config transform check pipeline verify copy sync merge sample job cli)
set(MMMOVE_USES_core "")
set(MMMOVE_USES_db core)
set(MMMOVE_USES_catalog db)
set(MMMOVE_USES_files catalog)
set(MMMOVE_USES_config catalog)
set(MMMOVE_USES_transform catalog)
set(MMMOVE_USES_check transform)
set(MMMOVE_USES_pipeline check)
set(MMMOVE_USES_verify pipeline files)
set(MMMOVE_USES_copy verify)
set(MMMOVE_USES_sync verify)
set(MMMOVE_USES_merge verify)
set(MMMOVE_USES_sample transform)
set(MMMOVE_USES_job copy sync merge config)
set(MMMOVE_USES_cli job sample)

# MMMOVE_BELOW_<folder>: every folder <folder> may include, direct or through the ones it uses.
foreach(layer ${MMMOVE_LAYERS})
  set(below ${MMMOVE_USES_${layer}})
  foreach(used ${MMMOVE_USES_${layer}})
    list(APPEND below ${MMMOVE_BELOW_${used}})
  endforeach()
  list(REMOVE_DUPLICATES below)
  set(MMMOVE_BELOW_${layer} ${below})
endforeach()
