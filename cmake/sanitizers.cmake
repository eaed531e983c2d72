# ASan + UBSan for the sanitizer build (COVGATE_SANITIZE=ON); UB aborts instead of warning.
function(covgate_sanitize target)
  if(COVGATE_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
