{#-
    Conversion paths with view-through touches: the same rules as int_conversion_paths
    (macros/conversion_paths.sql) over the click touchpoints and the view touches of
    int_view_touches together, labelled by touch_type ('view' for an impression). Read
    only by the attribution models tagged view_through; with the option
    attribution.view_through off there are no view touches and it equals
    int_conversion_paths.
-#}

{{ conversion_paths([ref('int_touchpoints'), ref('int_view_touches')]) }}
